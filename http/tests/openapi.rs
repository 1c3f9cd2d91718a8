//! Keeps `api/openapi.yaml` in step with the router: every route in `ROUTES` is documented,
//! nothing is documented that does not exist, path parameters are declared, and every
//! operation documents its errors as `application/problem+json`.
//!
//! The http crate has no YAML parser on purpose: the document's structure is read by
//! indentation (2-space steps), which is all these checks need.

use phananh_http::{OPENAPI_YAML, ROUTES};
use std::collections::{BTreeMap, BTreeSet};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One meaningful line: indentation, trimmed text, 1-based line number.
#[derive(Debug, Clone)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
    no: usize,
}

fn lines(doc: &str) -> Vec<Line<'_>> {
    doc.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let text = raw.trim();
            if text.is_empty() || text.starts_with('#') {
                return None;
            }
            assert!(
                !raw.starts_with('\t'),
                "line {}: tabs are not allowed in YAML indentation",
                i + 1
            );
            Some(Line {
                indent: raw.len() - raw.trim_start().len(),
                text,
                no: i + 1,
            })
        })
        .collect()
}

/// The mapping key of a `key:` or `key: value` line, quotes removed.
fn key_of(text: &str) -> Option<&str> {
    let k = if let Some(k) = text.strip_suffix(':') {
        k
    } else {
        text.split_once(": ").map(|(k, _)| k)?
    };
    Some(k.trim_matches(|c| c == '\'' || c == '"'))
}

/// The children block of the line at `i`: following lines more indented than it.
/// The text of block scalars (`|`) is part of it, always deeper than the key that opens it.
fn block<'a, 'b>(ls: &'b [Line<'a>], i: usize) -> &'b [Line<'a>] {
    let base = ls[i].indent;
    let end = ls[i + 1..]
        .iter()
        .position(|l| l.indent <= base)
        .map_or(ls.len(), |p| i + 1 + p);
    &ls[i + 1..end]
}

/// Direct children keys of a block: the lines at its first line's indentation (block-scalar
/// text is deeper, so it is skipped).
fn children<'a>(blk: &[Line<'a>]) -> Vec<(usize, &'a str)> {
    let Some(ind) = blk.first().map(|l| l.indent) else {
        return Vec::new();
    };
    blk.iter()
        .enumerate()
        .filter(|(_, l)| l.indent == ind)
        .filter_map(|(j, l)| key_of(l.text).map(|k| (j, k)))
        .collect()
}

/// The top-level block `name:` (indentation 0).
fn top<'a, 'b>(ls: &'b [Line<'a>], name: &str) -> &'b [Line<'a>] {
    let i = ls
        .iter()
        .position(|l| l.indent == 0 && key_of(l.text) == Some(name))
        .unwrap_or_else(|| panic!("the document has no top-level `{name}:`"));
    block(ls, i)
}

/// The child block `name:` of a block, if present.
fn child<'a, 'b>(blk: &'b [Line<'a>], name: &str) -> Option<&'b [Line<'a>]> {
    children(blk)
        .into_iter()
        .find(|(_, k)| *k == name)
        .map(|(j, _)| block(blk, j))
}

struct Operation<'a, 'b> {
    method: &'a str,
    path: &'a str,
    line: usize,
    body: &'b [Line<'a>],
}

fn operations<'a, 'b>(ls: &'b [Line<'a>]) -> Vec<Operation<'a, 'b>> {
    let paths = top(ls, "paths");
    assert!(!paths.is_empty(), "`paths:` is empty");
    assert_eq!(paths[0].indent, 2, "paths must be indented by 2 spaces");
    let mut ops = Vec::new();
    for (j, path) in children(paths) {
        assert!(
            path.starts_with('/'),
            "line {}: key `{path}` under paths: is not a path",
            paths[j].no
        );
        let item = block(paths, j);
        assert!(
            item.first().is_some_and(|l| l.indent == 4),
            "line {}: the methods of {path} must be indented by 4 spaces",
            paths[j].no
        );
        for (k, key) in children(item) {
            if METHODS.contains(&key) {
                ops.push(Operation {
                    method: key,
                    path,
                    line: item[k].no,
                    body: block(item, k),
                });
            } else {
                assert!(
                    ["parameters", "summary", "description", "servers"].contains(&key),
                    "line {}: unexpected key `{key}` under {path}",
                    item[k].no
                );
            }
        }
    }
    ops
}

fn doc_lines() -> Vec<Line<'static>> {
    lines(OPENAPI_YAML)
}

#[test]
fn declares_openapi_3_1() {
    let ls = doc_lines();
    let first = ls.first().expect("the document is empty");
    assert!(
        first.indent == 0 && first.text.starts_with("openapi: 3.1"),
        "the document must start with `openapi: 3.1.x`, found `{}`",
        first.text
    );
    // info and a server are part of the contract the app codes against.
    assert!(!top(&ls, "info").is_empty());
    assert!(
        top(&ls, "servers")
            .iter()
            .any(|l| l.text.contains("http://127.0.0.1:8080")),
        "the embedded default server is not listed"
    );
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let ls = doc_lines();
    let mut documented = BTreeSet::new();
    for op in operations(&ls) {
        assert!(
            documented.insert((op.method, op.path)),
            "line {}: {} {} is documented twice",
            op.line,
            op.method,
            op.path
        );
    }
    let routes: BTreeSet<(&str, &str)> = ROUTES.iter().copied().collect();
    assert_eq!(routes.len(), ROUTES.len(), "ROUTES has duplicates");
    let missing: Vec<_> = routes.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes missing from api/openapi.yaml: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "documented routes that do not exist: {extra:?}"
    );
}

/// `components: parameters:` reference name → (name, in).
fn component_parameters<'a>(ls: &[Line<'a>]) -> BTreeMap<&'a str, (String, String)> {
    let comps = top(ls, "components");
    let Some(params) = child(comps, "parameters") else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for (j, refname) in children(params) {
        let body = block(params, j);
        let field = |f: &str| {
            body.iter()
                .filter(|l| l.indent == body[0].indent)
                .find_map(|l| l.text.strip_prefix(&format!("{f}: ")))
                .map(|v| v.trim_matches(|c| c == '\'' || c == '"').to_string())
                .unwrap_or_default()
        };
        out.insert(refname, (field("name"), field("in")));
    }
    out
}

#[test]
fn path_parameters_are_declared_on_every_operation() {
    let ls = doc_lines();
    let comps = component_parameters(&ls);
    for op in operations(&ls) {
        let mut declared = BTreeSet::new();
        if let Some(params) = child(op.body, "parameters") {
            let mut current_name = None;
            for l in params {
                let t = l.text.trim_start_matches("- ");
                if let Some(r) = t.strip_prefix("$ref: ") {
                    let r = r.trim_matches(|c| c == '\'' || c == '"');
                    let name = r
                        .strip_prefix("#/components/parameters/")
                        .unwrap_or_else(|| panic!("line {}: bad parameter ref {r}", l.no));
                    let (n, inn) = comps
                        .get(name)
                        .unwrap_or_else(|| panic!("line {}: unknown parameter {name}", l.no));
                    if inn == "path" {
                        declared.insert(n.clone());
                    }
                } else if let Some(n) = t.strip_prefix("name: ") {
                    current_name = Some(n.to_string());
                } else if t == "in: path" {
                    if let Some(n) = current_name.take() {
                        declared.insert(n);
                    }
                }
            }
        }
        let needed: BTreeSet<String> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        assert_eq!(
            declared, needed,
            "line {}: {} {} declares path parameters {declared:?}, the path has {needed:?}",
            op.line, op.method, op.path
        );
    }
}

/// Names of `components: responses:` whose content is a problem.
fn problem_responses<'a>(ls: &[Line<'a>]) -> BTreeSet<&'a str> {
    let comps = top(ls, "components");
    let Some(resps) = child(comps, "responses") else {
        return BTreeSet::new();
    };
    children(resps)
        .into_iter()
        .filter(|(j, _)| is_problem(block(resps, *j), &BTreeSet::new()))
        .map(|(_, k)| k)
        .collect()
}

fn is_problem(body: &[Line<'_>], problem_refs: &BTreeSet<&str>) -> bool {
    body.iter().any(|l| {
        l.text.contains("application/problem+json")
            || l.text.contains("#/components/schemas/Problem'")
            || l.text.contains("#/components/schemas/Problem\"")
            || l.text
                .strip_prefix("$ref: ")
                .map(|r| r.trim_matches(|c| c == '\'' || c == '"'))
                .and_then(|r| r.strip_prefix("#/components/responses/"))
                .is_some_and(|name| problem_refs.contains(name))
    })
}

#[test]
fn every_operation_documents_problem_errors() {
    let ls = doc_lines();
    let problems = problem_responses(&ls);
    assert!(
        problems.contains("NotFound"),
        "components.responses.NotFound must be a problem+json response"
    );
    // The Problem schema carries the fields clients rely on.
    let schemas = child(top(&ls, "components"), "schemas").expect("components.schemas");
    let problem = child(schemas, "Problem").expect("components.schemas.Problem");
    let props = child(problem, "properties").expect("Problem.properties");
    let keys: BTreeSet<&str> = children(props).into_iter().map(|(_, k)| k).collect();
    for f in [
        "type", "title", "status", "detail", "code", "field", "guidance",
    ] {
        assert!(keys.contains(f), "Problem schema lacks `{f}`");
    }

    for op in operations(&ls) {
        let responses = child(op.body, "responses").unwrap_or_else(|| {
            panic!(
                "line {}: {} {} has no responses",
                op.line, op.method, op.path
            )
        });
        let codes = children(responses);
        assert!(
            codes.iter().any(|(_, c)| c.starts_with('2')),
            "line {}: {} {} documents no success response",
            op.line,
            op.method,
            op.path
        );
        let errors: Vec<&str> = codes
            .iter()
            .filter(|(_, c)| c.starts_with('4') || c.starts_with('5'))
            .filter(|(j, _)| is_problem(block(responses, *j), &problems))
            .map(|(_, c)| *c)
            .collect();
        assert!(
            !errors.is_empty(),
            "line {}: {} {} documents no 4xx/5xx application/problem+json response",
            op.line,
            op.method,
            op.path
        );
    }
}

#[test]
fn the_scanner_sees_what_it_should() {
    // Guard against a scanner that silently finds nothing: a small document with one good and
    // one bad operation.
    let doc = "openapi: 3.1.0\npaths:\n  /a/{id}:\n    get:\n      parameters:\n        - name: id\n          in: path\n      responses:\n        '200':\n          description: ok\n        '404':\n          $ref: '#/components/responses/NotFound'\n    post:\n      responses:\n        '200':\n          description: ok\n        '400':\n          description: no problem here\ncomponents:\n  responses:\n    NotFound:\n      content:\n        application/problem+json:\n          schema: {}\n";
    let ls = lines(doc);
    let ops = operations(&ls);
    let found: Vec<_> = ops.iter().map(|o| (o.method, o.path)).collect();
    assert_eq!(found, vec![("get", "/a/{id}"), ("post", "/a/{id}")]);
    let problems = problem_responses(&ls);
    assert_eq!(problems.into_iter().collect::<Vec<_>>(), vec!["NotFound"]);
    let problems = problem_responses(&ls);
    let with_problem: Vec<bool> = ops
        .iter()
        .map(|o| {
            let r = child(o.body, "responses").unwrap();
            children(r)
                .iter()
                .filter(|(_, c)| c.starts_with('4'))
                .any(|(j, _)| is_problem(block(r, *j), &problems))
        })
        .collect();
    assert_eq!(with_problem, vec![true, false]);
}
