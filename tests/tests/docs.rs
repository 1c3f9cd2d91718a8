//! The documentation stays true to the tree: every relative Markdown link and every backticked
//! repository path in the docs names something that exists, and the article index of
//! `docs/domain.md` covers Đ.3–Đ.9 with modules and tests that exist.
//!
//! What counts as a repository path in backticks: one word (no space) whose first segment is an
//! entry at the repository root (`core/src/app/stats.rs`, `config/laichau/`, `template.yaml`),
//! written without wildcards, placeholders or Rust paths (`*`, `<…>`, `{…}`, `::`, `:`, `#`).
//! So `image/jpeg`, `data/demo-accounts.txt` (made at run time) and `/v1/openapi.yaml` (a URL
//! path) are not paths; `core/src/nope.rs` is, and fails. Fenced code blocks are skipped.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// README.md, CONTRIBUTING.md, config/README.md and every Markdown file under docs/.
fn doc_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "config/README.md"]
        .iter()
        .map(|f| root.join(f))
        .filter(|p| p.is_file())
        .collect();
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The lines of a Markdown text outside fenced code blocks, with their 1-based numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| t.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(f), Some(m)) if f == m => fence = None,
            (None, None) => out.push((i + 1, line)),
            _ => {}
        }
    }
    out
}

/// Splits a line into its inline code spans and the text outside them.
fn code_spans(line: &str) -> (Vec<&str>, String) {
    let mut spans = Vec::new();
    let mut rest = String::new();
    let mut s = line;
    while let Some(start) = s.find('`') {
        rest.push_str(&s[..start]);
        let ticks = s[start..].chars().take_while(|c| *c == '`').count();
        let after = &s[start + ticks..];
        let closing = "`".repeat(ticks);
        match after.find(&closing) {
            Some(end) => {
                spans.push(after[..end].trim());
                s = &after[end + ticks..];
            }
            None => {
                rest.push_str(&s[start..]);
                s = "";
            }
        }
    }
    rest.push_str(s);
    (spans, rest)
}

/// Targets of inline links and images `[text](target "title")` and of reference definitions
/// `[name]: target`, in text that has no code spans left.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut s = text;
    while let Some(i) = s.find("](") {
        let after = &s[i + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].split_whitespace().next().unwrap_or("");
        out.push(target.trim_matches(|c| c == '<' || c == '>').to_string());
        s = &after[end..];
    }
    let t = text.trim_start();
    if t.starts_with('[') {
        if let Some(i) = t.find("]:") {
            if let Some(target) = t[i + 2..].split_whitespace().next() {
                out.push(target.to_string());
            }
        }
    }
    out
}

fn is_external(target: &str) -> bool {
    target.is_empty()
        || target.starts_with('#')
        || ["http://", "https://", "mailto:"]
            .iter()
            .any(|p| target.starts_with(p))
}

/// Entries at the repository root a backticked path may start with (build output and run-time
/// data are not part of the repository).
fn root_entries(root: &Path) -> BTreeSet<String> {
    fs::read_dir(root)
        .expect("repository root")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != "target" && n != "data")
        .collect()
}

/// Whether a code span is written as a repository path (see the module comment).
fn as_repo_path<'a>(span: &'a str, roots: &BTreeSet<String>) -> Option<&'a str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-');
    if span.is_empty() || span.starts_with('/') || !span.chars().all(plain) {
        return None;
    }
    let first = span.split('/').next()?;
    roots.contains(first).then_some(span)
}

fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Every broken link or path of one Markdown file, as `file:line: what`.
fn broken_in(root: &Path, file: &Path, roots: &BTreeSet<String>) -> Vec<String> {
    let text = fs::read_to_string(file).expect("readable Markdown");
    let dir = file.parent().expect("a file has a folder");
    let name = relative(root, file);
    let mut broken = Vec::new();
    for (n, line) in prose_lines(&text) {
        let (spans, rest) = code_spans(line);
        for target in link_targets(&rest) {
            if is_external(&target) {
                continue;
            }
            let path = target.split('#').next().unwrap_or("");
            if !dir.join(path).exists() {
                broken.push(format!("{name}:{n}: link ({target})"));
            }
        }
        for span in spans {
            if let Some(p) = as_repo_path(span, roots) {
                if !root.join(p).exists() {
                    broken.push(format!("{name}:{n}: path `{p}`"));
                }
            }
        }
    }
    broken
}

#[test]
fn every_link_and_repository_path_in_the_docs_resolves() {
    let root = root();
    let roots = root_entries(&root);
    let files = doc_files(&root);
    assert!(
        files.iter().any(|f| f.ends_with("docs/domain.md")),
        "the docs are found"
    );
    let broken: Vec<String> = files
        .iter()
        .flat_map(|f| broken_in(&root, f, &roots))
        .collect();
    assert!(
        broken.is_empty(),
        "{} broken link(s) or path(s) in the docs:\n{}",
        broken.len(),
        broken.join("\n")
    );
}

#[test]
fn the_path_rules_tell_paths_from_other_code() {
    let roots: BTreeSet<String> = ["core", "docs", "template.yaml"].map(String::from).into();
    for p in [
        "core/src/app/stats.rs",
        "docs/",
        "template.yaml",
        "core/nope.rs",
    ] {
        assert_eq!(as_repo_path(p, &roots), Some(p), "{p} is a path");
    }
    for s in [
        "image/jpeg",
        "data/demo-accounts.txt",
        "/v1/openapi.yaml",
        "core/src/*.rs",
        "cargo test -p phananh-core",
        "phananh_core::config",
        "core/src/lib.rs:12",
        "<target>/tmp",
    ] {
        assert_eq!(as_repo_path(s, &roots), None, "{s} is not a path");
    }
    let (spans, rest) = code_spans("see `a/b.rs` and ``x ` y`` then [t](c.md#s)");
    assert_eq!(spans, vec!["a/b.rs", "x ` y"]);
    assert_eq!(link_targets(&rest), vec!["c.md#s".to_string()]);
    assert_eq!(
        prose_lines("a\n```sh\n`core/x`\n```\nb").len(),
        2,
        "fenced code is skipped"
    );
}

// ------------------------------------------------------------------ the article index

/// Rows of the Markdown table that follows the "Article index" heading of docs/domain.md:
/// (line, cells).
fn article_index(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut rows = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') {
            if inside && !rows.is_empty() {
                break;
            }
            inside = t.to_lowercase().contains("article index");
            continue;
        }
        if !inside || !t.starts_with('|') {
            if inside && !rows.is_empty() && !t.is_empty() {
                break;
            }
            continue;
        }
        let cells: Vec<String> = t
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        if cells.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) {
            continue;
        }
        rows.push((i + 1, cells));
    }
    rows.into_iter().skip(1).collect() // the header
}

/// The names of the test functions of the workspace: `fn name(` under a test attribute
/// (`#[test]`, `#[tokio::test]`, also inside `proptest!`), in every Rust file outside build
/// output.
fn test_functions(root: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let n = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !n.starts_with('.') && n != "target" && n != "data" {
                    dirs.push(p);
                }
                continue;
            }
            if !n.ends_with(".rs") {
                continue;
            }
            let text = fs::read_to_string(&p).unwrap_or_default();
            let mut under_test = false;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[") {
                    under_test |= line.contains("test");
                    continue;
                }
                if under_test {
                    let f = line
                        .strip_prefix("async fn ")
                        .or_else(|| line.strip_prefix("fn "));
                    if let Some(name) = f.and_then(|f| f.split('(').next()) {
                        names.insert(name.trim().to_string());
                    }
                }
                under_test = false;
            }
        }
    }
    names
}

#[test]
fn the_article_index_covers_articles_3_to_9_with_modules_and_tests_that_exist() {
    let root = root();
    let text = fs::read_to_string(root.join("docs/domain.md")).expect("docs/domain.md");
    let rows = article_index(&text);
    assert!(
        !rows.is_empty(),
        "docs/domain.md has an \"Article index\" table"
    );
    let tests = test_functions(&root);
    let mut problems = Vec::new();
    let mut cited = BTreeSet::new();
    for (line, cells) in &rows {
        let [article, _what, modules, names] = &cells[..] else {
            problems.push(format!(
                "line {line}: 4 columns expected (article | rule | module | tests)"
            ));
            continue;
        };
        match article
            .trim_start_matches("Đ.")
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) if article.starts_with("Đ.") => {
                cited.insert(n);
            }
            _ => problems.push(format!(
                "line {line}: the article \"{article}\" is not written Đ.n…"
            )),
        }
        let (module_spans, _) = code_spans(modules);
        if module_spans.is_empty() {
            problems.push(format!("line {line}: {article} names no module"));
        }
        for m in module_spans {
            if !root.join(m).exists() {
                problems.push(format!("line {line}: {article}: no module `{m}`"));
            }
        }
        let (test_spans, _) = code_spans(names);
        if test_spans.is_empty() {
            problems.push(format!("line {line}: {article} names no test"));
        }
        for t in test_spans {
            if !tests.contains(t) {
                problems.push(format!("line {line}: {article}: no test fn `{t}`"));
            }
        }
    }
    for n in 3..=9 {
        if !cited.contains(&n) {
            problems.push(format!("Đ.{n} has no row"));
        }
    }
    assert!(
        problems.is_empty(),
        "the article index of docs/domain.md:\n{}",
        problems.join("\n")
    );
}
