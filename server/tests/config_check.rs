//! `phananh config check DIR` on the built binary: the example town of `config/example-town/`
//! (docs/new-city.md) is accepted with its summary line, and a broken copy of it is refused
//! with a non-zero exit naming the file and the key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example_dir() -> PathBuf {
    workspace().join("config").join("example-town")
}

fn config_check(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phananh"))
        .current_dir(workspace())
        .env_remove("PHANANH_CONFIG_DIR")
        .args(["config", "check"])
        .arg(dir)
        .output()
        .expect("the phananh binary runs")
}

/// A directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let p = std::env::temp_dir().join(format!("phananh-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("temp dir");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_example_town_passes_config_check() {
    let out = config_check(&example_dir());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert_eq!(
        stdout.trim(),
        "Cấu hình hợp lệ: Thị xã Mẫu (ví dụ) — 9 lĩnh vực, 12 đơn vị, 4 xã/phường."
    );
}

#[test]
fn a_copy_with_a_unit_removed_is_refused_naming_file_and_key() {
    let copy = Scratch::new("example-town-broken");
    for entry in std::fs::read_dir(example_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        std::fs::copy(&path, copy.0.join(name)).unwrap();
    }
    // Remove the urban-order team from units.toml; categories.toml still routes to it.
    let units = std::fs::read_to_string(copy.0.join("units.toml")).unwrap();
    let kept: Vec<&str> = units
        .split("[[unit]]")
        .filter(|block| !block.contains("id = \"doi_trat_tu_do_thi\""))
        .collect();
    assert_eq!(kept.len(), units.split("[[unit]]").count() - 1);
    std::fs::write(copy.0.join("units.toml"), kept.join("[[unit]]")).unwrap();

    let out = config_check(&copy.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a broken config was accepted");
    assert!(
        stderr.contains(
            "categories.toml: category[3].routing.unit: unknown unit \"doi_trat_tu_do_thi\""
        ),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "no summary for a refused config: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A first `serve` on another city's configuration starts and creates demo accounts for that
/// city's units (the demo names Lai Châu's units; they must not be required).
#[test]
fn a_first_serve_on_the_example_town_starts_with_its_own_demo_accounts() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let data = Scratch::new("phananh-town-serve");
    let mut child = Command::new(env!("CARGO_BIN_EXE_phananh"))
        .current_dir(workspace())
        .arg("--data")
        .arg(&data.0)
        .arg("--config")
        .arg(example_dir())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the phananh binary runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut started = false;
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("phananh đang chạy tại ") => {
                started = true;
                break;
            }
            Some(Ok(_)) => continue,
            _ => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "serve did not start on the example town");
    let table =
        std::fs::read_to_string(data.0.join("demo-accounts.txt")).expect("demo accounts written");
    let town = std::fs::read_to_string(example_dir().join("units.toml")).expect("units.toml");
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let unit = line.split_whitespace().nth(2).expect("a unit column");
        assert!(
            town.contains(&format!("id = \"{unit}\"")),
            "demo account on a unit the town does not have: {line}"
        );
    }
    assert!(
        table.contains(" unit_staff "),
        "a unit account to try the unit pages: {table}"
    );
}
