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
