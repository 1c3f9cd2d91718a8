//! The documents Open311 answers with, written once as an ordered tree and rendered as XML or
//! JSON by the format suffix of the path (`.xml`, `.json`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The two formats of GeoReport v2, chosen by the path's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// `"services.json"` → `("services", Json)`; None without a known suffix.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        if let Some(stem) = file.strip_suffix(".xml") {
            Some((stem, Format::Xml))
        } else {
            file.strip_suffix(".json").map(|stem| (stem, Format::Json))
        }
    }
}

/// An ordered document: text (None renders as an empty element, or `null`), a boolean, a
/// number, an object with its fields in order, or a list (in XML each item is one element
/// named after the singular of the list's name: `attributes` → `attribute`).
#[derive(Debug, Clone)]
pub enum Node {
    Text(Option<String>),
    Bool(bool),
    Int(i64),
    Float(f64),
    Obj(Vec<(&'static str, Node)>),
    List(Vec<Node>),
}

impl Node {
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(Some(s.into()))
    }

    pub fn opt(s: Option<impl Into<String>>) -> Node {
        Node::Text(s.map(Into::into))
    }

    fn to_json(&self) -> Value {
        match self {
            Node::Text(t) => t.clone().map_or(Value::Null, Value::String),
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => Value::from(*f),
            Node::Obj(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert((*k).to_string(), v.to_json());
                }
                Value::Object(m)
            }
            Node::List(items) => Value::Array(items.iter().map(Node::to_json).collect()),
        }
    }

    fn write_xml(&self, name: &str, out: &mut String) {
        match self {
            Node::Text(None) => {
                out.push('<');
                out.push_str(name);
                out.push_str("/>");
            }
            Node::Text(Some(t)) => element(name, &escape(t), out),
            Node::Bool(b) => element(name, if *b { "true" } else { "false" }, out),
            Node::Int(i) => element(name, &i.to_string(), out),
            Node::Float(f) => element(name, &f.to_string(), out),
            Node::Obj(fields) => {
                out.push_str(&format!("<{name}>"));
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
                out.push_str(&format!("</{name}>"));
            }
            Node::List(items) => {
                let item = name.strip_suffix('s').unwrap_or(name);
                out.push_str(&format!("<{name}>"));
                for i in items {
                    i.write_xml(item, out);
                }
                out.push_str(&format!("</{name}>"));
            }
        }
    }

    /// The whole document in `format`; `root` names the XML root element (a list's items are
    /// named by [`Node::write_xml`]'s rule, so `service_requests` holds `request`s by `item`).
    pub fn render(&self, status: StatusCode, format: Format, root: &str, item: &str) -> Response {
        match format {
            Format::Json => (
                status,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                self.to_json().to_string(),
            )
                .into_response(),
            Format::Xml => {
                let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
                match self {
                    Node::List(items) => {
                        out.push_str(&format!("<{root}>"));
                        for i in items {
                            i.write_xml(item, &mut out);
                        }
                        out.push_str(&format!("</{root}>"));
                    }
                    other => other.write_xml(root, &mut out),
                }
                (
                    status,
                    [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                    out,
                )
                    .into_response()
            }
        }
    }
}

fn element(name: &str, body: &str, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(body);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// XML text: the five special characters escaped, characters XML 1.0 forbids left out.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The spec's error document: a list of `{code, description}` (`<errors><error>`), the code
/// being the HTTP status.
#[derive(Debug, Clone)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
}

impl Open311Error {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Open311Error {
            status,
            description: description.into(),
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Open311Error::new(StatusCode::BAD_REQUEST, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Self {
        Open311Error::new(StatusCode::FORBIDDEN, description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Open311Error::new(StatusCode::NOT_FOUND, description)
    }

    pub fn render(&self, format: Format) -> Response {
        Node::List(vec![Node::Obj(vec![
            ("code", Node::Int(i64::from(self.status.as_u16()))),
            ("description", Node::text(self.description.clone())),
        ])])
        .render(self.status, format, "errors", "error")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(escape("a<b>&\"c'\u{1}đ"), "a&lt;b&gt;&amp;&quot;c&apos;đ");
    }

    #[test]
    fn lists_name_their_items_in_the_singular() {
        let mut out = String::new();
        Node::Obj(vec![(
            "attributes",
            Node::List(vec![Node::Obj(vec![("code", Node::text("x"))])]),
        )])
        .write_xml("service_definition", &mut out);
        assert_eq!(
            out,
            "<service_definition><attributes><attribute><code>x</code></attribute></attributes></service_definition>"
        );
    }
}
