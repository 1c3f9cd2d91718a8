//! Charts drawn on the server as inline SVG: no script, no inline styles (only SVG
//! presentation attributes, allowed by the Content-Security-Policy), readable by screen
//! readers (`role="img"` named by its title, described by every label and value).

use maud::{html, Markup};

/// Height of one bar's row, in SVG units.
const ROW: usize = 30;
/// Width of the label column.
const LABEL_W: usize = 230;
/// Width of the bar area.
const BAR_W: usize = 330;
/// Width of the value column.
const VALUE_W: usize = 60;
/// Labels longer than this are shortened (the whole label stays in the description and in
/// each bar's tooltip).
const LABEL_CHARS: usize = 30;

fn shorten(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let head: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{head}…")
    }
}

/// A horizontal bar chart of `rows` (label, value), in the given order, inside a
/// `div.chart` (its visible title is hidden from screen readers, which read the SVG's).
/// `id` must be unique on the page (it names the title and description).
pub fn bar_chart(id: &str, title: &str, rows: &[(String, usize)]) -> Markup {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let width = LABEL_W + BAR_W + VALUE_W;
    let height = (rows.len().max(1)) * ROW + 6;
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let desc = if rows.is_empty() {
        "Không có dữ liệu.".to_string()
    } else {
        rows.iter()
            .map(|(l, v)| format!("{l}: {v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    html! {
        div class="chart" id=(id) {
            p.chart-title aria-hidden="true" { (title) }
            svg xmlns="http://www.w3.org/2000/svg" role="img"
                aria-labelledby=(format!("{title_id} {desc_id}"))
                viewBox=(format!("0 0 {width} {height}"))
                width=(width) height=(height)
                font-family="system-ui, sans-serif" font-size="13" {
                title id=(title_id) { (title) }
                desc id=(desc_id) { (desc) }
                @if rows.is_empty() {
                    text x="0" y="20" fill="#5b6675" { "Không có dữ liệu." }
                }
                @for (i, (label, value)) in rows.iter().enumerate() {
                    @let y = i * ROW + 3;
                    @let w = if *value == 0 { 0 } else { (value * BAR_W / max).max(2) };
                    g class="bar" {
                        title { (label) ": " (value) }
                        text x=(LABEL_W - 8) y=(y + ROW / 2 + 4) text-anchor="end" fill="#1b2430" {
                            (shorten(label))
                        }
                        rect x=(LABEL_W) y=(y + 4) width=(w) height=(ROW - 10) rx="3" fill="#0b5cab" {}
                        text x=(LABEL_W + w + 6) y=(y + ROW / 2 + 4) fill="#1b2430" font-weight="600" {
                            (value)
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_accessible_svg_with_every_label_and_value() {
        let rows = vec![
            (
                "Phòng Tài nguyên và Môi trường thành phố Lai Châu".to_string(),
                4,
            ),
            ("UBND phường Tân Phong".to_string(), 2),
            ("Không".to_string(), 0),
        ];
        let html = bar_chart("by-unit", "Theo đơn vị", &rows).into_string();
        assert!(
            html.contains("<svg") && html.contains(r#"role="img""#),
            "{html}"
        );
        assert!(html.contains(r#"aria-labelledby="by-unit-title by-unit-desc""#));
        assert!(html.contains("UBND phường Tân Phong: 2"));
        assert!(html.contains("Phòng Tài nguyên và Môi trường thành phố Lai Châu: 4"));
        assert!(html.contains("…"), "long labels are shortened on the bar");
        assert!(!html.contains("style="), "no inline styles (CSP)");
        assert!(
            html.contains(r#"width="330""#),
            "the largest value fills the bar area"
        );
        let empty = bar_chart("e", "Trống", &[]).into_string();
        assert!(empty.contains("Không có dữ liệu."));
    }
}
