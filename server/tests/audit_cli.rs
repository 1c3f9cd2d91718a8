//! `phananh audit verify` and `phananh audit anchor` on a data directory (Đ.6.2): an untouched
//! database verifies (exit 0); a directive edited in its SQLite row and the chain recomputed
//! with the key-less hash makes verification fail (non-zero exit), naming the report and the
//! first bad entry, and the day's anchor no longer matches.

use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Actor, GeoPoint, Report, Reporter, Role};
use phananh_embedded::{SqliteStore, StoreOptions, DB_FILE};
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier, SeqIds};
use phananh_testkit::fixtures::{rules, t0};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};
use std::sync::Arc;

const KEY: &str = "5f1d0c3b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504";

fn input(title: &str) -> NewReport {
    NewReport {
        category: "environment".into(),
        title: title.into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: Some(GeoPoint {
            lat: 22.41,
            lon: 103.47,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Nguyễn Văn An".into()),
            phone: Some("0912345678".into()),
            email: None,
        }),
        camera_id: None,
    }
}

fn phananh(data: &Path, args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_phananh"))
        .env_remove("PHANANH_AUDIT_KEY")
        .env_remove("PHANANH_CONFIG_DIR")
        .env("PHANANH_DATA_DIR", data)
        .env("RUST_LOG", "error")
        .args(args)
        .output()
        .expect("phananh runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_fails_on_an_edited_directive_and_the_anchor_catches_a_recomputed_chain() {
    let dir = Dir(std::env::temp_dir().join(format!("phananh-audit-cli-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).expect("data dir");
    // The key file the binary reads (as `serve` creates it on first start).
    std::fs::write(dir.0.join("audit.key"), KEY).expect("key file");
    {
        use std::os::unix::fs::PermissionsExt;
        // Like `serve`'s own: readable by its owner only, or the binary refuses it.
        std::fs::set_permissions(
            dir.0.join("audit.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("key file mode");
    }
    let store = SqliteStore::open(&dir.0, StoreOptions::default()).expect("store");
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
    .with_audit_key(KEY.as_bytes());
    let citizen = Actor::new("cit-1", Role::Citizen, None);
    let leader = Actor::new("leader-1", Role::Leader, None);
    let (r1, _) = app
        .submit(&citizen, input("Rác thải trước chợ"), &[], None)
        .await
        .expect("submitted");
    app.submit(&citizen, input("Cống thoát nước tắc"), &[], None)
        .await
        .expect("submitted");
    let r1 = app
        .act(
            &r1.id,
            &leader,
            Command::Directive {
                text: "Giao phường xử lý trong 2 ngày".into(),
                corrects: None,
            },
        )
        .await
        .expect("directive");
    let seq = r1.timeline.len() - 1;
    store.close();
    let day = t0().date_naive().to_string();

    let o = phananh(&dir.0, &["audit", "anchor", "--day", &day]);
    assert!(
        o.status.success(),
        "anchor: {}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    // Append-only: the same day is never anchored twice.
    assert!(!phananh(&dir.0, &["audit", "anchor", "--day", &day])
        .status
        .success());
    let o = phananh(&dir.0, &["audit", "verify"]);
    assert!(o.status.success(), "untouched: {}", stdout(&o));
    assert!(stdout(&o).contains("0 phản ánh hỏng"), "{}", stdout(&o));

    // Đ.4.4: the office's JSON export carries no personal data, not even masked.
    let o = phananh(&dir.0, &["export", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json export");
    let rows = json.as_array().expect("an array");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.get("reporter").is_none()), "{json}");
    let text = stdout(&o);
    for personal in ["Nguyễn Văn An", "0912345678", "+84912345678", "09******78"] {
        assert!(!text.contains(personal), "{personal} in the export");
    }

    // The directive edited in its row, and the chain recomputed with the key-less hash.
    {
        let conn = rusqlite::Connection::open(dir.0.join(DB_FILE)).expect("db");
        let doc: String = conn
            .query_row("SELECT doc FROM reports WHERE id = ?1", [&r1.id.0], |r| {
                r.get(0)
            })
            .expect("row");
        let mut r: Report = serde_json::from_str(&doc).expect("report");
        r.timeline[seq].note = Some("Không cần xử lý".into());
        let mut prev = phananh_core::model::GENESIS_HASH.to_string();
        for e in r.timeline.iter_mut() {
            e.prev_hash = prev.clone();
            e.hash = e.compute_hash();
            prev = e.hash.clone();
        }
        assert!(
            r.verify_timeline().is_ok(),
            "the key-less chain looks whole"
        );
        let doc = serde_json::to_string(&r).expect("json");
        conn.execute(
            "UPDATE reports SET doc = ?1 WHERE id = ?2",
            [&doc, &r1.id.0],
        )
        .expect("update");
    }
    let o = phananh(
        &dir.0,
        &[
            "--data",
            dir.0.to_str().expect("utf-8 path"),
            "audit",
            "verify",
        ],
    );
    let out = stdout(&o);
    assert!(!o.status.success(), "a break must fail: {out}");
    assert!(
        out.contains(&format!("phản ánh {}: mục #{seq} (directive", r1.id)),
        "{out}"
    );
    assert!(
        out.contains(&format!("bản neo ngày {day}")),
        "the anchor catches it: {out}"
    );
    assert!(
        out.contains("1 phản ánh hỏng, 1 bản neo không khớp"),
        "{out}"
    );
    // From a later day on, this day's report and anchor are not checked.
    let o = phananh(&dir.0, &["audit", "verify", "--from", "2025-03-04"]);
    assert!(o.status.success(), "{}", stdout(&o));
}
