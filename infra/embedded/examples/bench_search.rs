//! Free-text search latency at a million stored reports (issue 8, item 3). Not a test.
//!
//! `cargo run --release -p phananh-embedded --example bench_search -- [total] [searches] [dir]`
//! (defaults: 1,000,000 reports, 1,000 searches, a fresh temporary directory that is removed at
//! the end). Given a `dir` that already holds `total` reports, the fill is skipped and the
//! database is kept, so searches can be re-measured.
//!
//! The fill goes through `ReportStore::create` with many concurrent writers, so every report is
//! written by the group-commit writer with its search-index row in the same transaction, as in
//! production (without outbox events, to keep the fill short). Texts are drawn from Vietnamese
//! street names, problems and filler words; searches are typed without diacritics, as staff do,
//! and mix street + problem queries, single words and prefixes, some with a filter and some
//! asking for the next page. Prints p50 / p90 / p99 / max latency of `ReportStore::query`.

use chrono::{Duration, Utc};
use phananh_core::model::{Report, State};
use phananh_core::ports::{ReportQuery, ReportStore};
use phananh_embedded::{SqliteStore, StoreOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const STREETS: &[&str] = &[
    "Trần Phú",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Võ Nguyên Giáp",
    "Trần Hưng Đạo",
    "Lê Duẩn",
    "Hoàng Văn Thụ",
    "Nguyễn Trãi",
    "Quang Trung",
    "Lê Thánh Tông",
    "Nguyễn Du",
    "Phan Đình Phùng",
    "Tô Hiệu",
    "Kim Đồng",
    "Ngô Quyền",
    "Bế Văn Đàn",
    "Chu Văn An",
    "Lò Văn Giá",
    "Trường Chinh",
    "Phạm Văn Đồng",
    "Tôn Đức Thắng",
    "Hùng Vương",
    "Nguyễn Chí Thanh",
    "Đặng Thai Mai",
    "Lê Hồng Phong",
    "Cù Chính Lan",
    "Nguyễn Văn Cừ",
    "Bùi Thị Xuân",
    "Lạc Long Quân",
    "Âu Cơ",
    "Mạc Đĩnh Chi",
    "Yết Kiêu",
    "Nguyễn Thái Học",
    "Phan Bội Châu",
    "Lý Tự Trọng",
    "Hoàng Diệu",
    "Thanh Niên",
];
const PROBLEMS: &[(&str, &str)] = &[
    ("Ổ gà", "Ổ gà sâu giữa đường, xe máy dễ ngã"),
    ("Đèn đường hỏng", "Cả dãy đèn đường không sáng mấy đêm nay"),
    (
        "Rác thải ùn ứ",
        "Rác thải ùn ứ nhiều ngày, bốc mùi khó chịu",
    ),
    (
        "Lấn chiếm vỉa hè",
        "Hàng quán lấn chiếm vỉa hè, người đi bộ phải xuống lòng đường",
    ),
    ("Ngập úng", "Mưa lớn gây ngập úng, cống thoát nước bị tắc"),
    ("Cây đổ", "Cây xanh bị đổ chắn ngang đường sau trận gió"),
    ("Tiếng ồn", "Karaoke gây tiếng ồn quá giờ quy định"),
    (
        "Nắp cống mất",
        "Nắp hố ga bị mất, rất nguy hiểm cho người đi đường",
    ),
    (
        "Xây dựng trái phép",
        "Công trình xây dựng không phép, đổ vật liệu ra đường",
    ),
    (
        "Đỗ xe sai quy định",
        "Ô tô đỗ dưới lòng đường gây ùn tắc giao thông",
    ),
    ("Nước sinh hoạt bẩn", "Nước máy có màu vàng, mùi lạ"),
    ("Cháy rừng", "Khói lửa gần khu dân cư, nghi cháy rừng"),
    (
        "Sạt lở",
        "Sạt lở taluy dương sau mưa, đất đá tràn xuống đường",
    ),
    ("Chó thả rông", "Chó thả rông không rọ mõm, cắn người đi bộ"),
    ("Biển báo hỏng", "Biển báo giao thông bị gãy đổ"),
    ("Dây điện võng", "Dây điện võng thấp, nguy cơ mất an toàn"),
    ("Đường hư hỏng", "Mặt đường bong tróc, nhiều chỗ lún sụt"),
    ("Khói bụi", "Xưởng gỗ xả khói bụi ảnh hưởng khu dân cư"),
    (
        "Vệ sinh an toàn thực phẩm",
        "Quán ăn không đảm bảo vệ sinh an toàn thực phẩm",
    ),
    (
        "Tụ tập gây rối",
        "Thanh niên tụ tập, đua xe gây mất trật tự ban đêm",
    ),
];
const PLACES: &[&str] = &[
    "phường Tân Phong",
    "phường Đoàn Kết",
    "phường Quyết Thắng",
    "phường Quyết Tiến",
    "phường Đông Phong",
    "xã San Thàng",
    "xã Nậm Loỏng",
    "gần chợ trung tâm",
    "trước cổng trường",
    "cạnh bệnh viện tỉnh",
    "đầu ngõ",
    "cuối dốc",
    "ngã tư",
    "gần bến xe",
    "khu tái định cư",
];
const CATEGORIES: &[&str] = &["environment", "traffic", "urban_order", "infrastructure"];

/// A small deterministic generator (xorshift64*), so every run fills the same texts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
    fn word(&mut self, xs: &[&'static str]) -> &'static str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn report(i: usize) -> Report {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64).wrapping_mul(0x100_0000_01B3));
    // Two years of reports, about one every 63 s, in creation order.
    let created = Utc::now() - Duration::days(730) + Duration::milliseconds(i as i64 * 63_072);
    let id = format!("r{i:08}");
    let mut r = phananh_testkit::fixtures::submitted_report(&id, created);
    let street = rng.word(STREETS);
    let (title, body) = rng.pick(PROBLEMS);
    let place = rng.word(PLACES);
    r.title = format!("{title} trên đường {street}");
    r.description = format!("{body}, {place}. Đề nghị cơ quan chức năng kiểm tra, xử lý sớm.");
    r.address = Some(format!("Số {} {street}, {place}", rng.next() % 300 + 1));
    r.category = rng.word(CATEGORIES).to_string();
    r.state = *rng.pick(&[
        State::Submitted,
        State::Assigned,
        State::InProgress,
        State::Resolved,
    ]);
    r
}

fn plain(s: &str) -> String {
    phananh_core::text::fold_for_search(s)
}

/// Searches as staff type them: without diacritics, sometimes only word starts.
fn queries(n: usize) -> Vec<(&'static str, ReportQuery)> {
    let mut rng = Rng(42);
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let street = plain(rng.word(STREETS));
        let (title, _) = rng.pick(PROBLEMS);
        let problem = plain(title);
        let (kind, text) = match k % 6 {
            0 | 1 => ("problem + street", format!("{problem} {street}")),
            2 => ("street", street.clone()),
            3 => (
                "prefixes",
                problem
                    .split(' ')
                    .chain(street.split(' '))
                    .map(|w| &w[..w.len().min(3)])
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            4 => (
                "one common word",
                plain(rng.word(&["rac", "duong", "nuoc", "xe", "den"])),
            ),
            _ => (
                "problem + place",
                format!("{problem} {}", plain(rng.word(PLACES))),
            ),
        };
        let mut q = ReportQuery {
            text: Some(text),
            limit: 50,
            ..Default::default()
        };
        if k.is_multiple_of(5) {
            q.category = Some(rng.word(CATEGORIES).to_string());
        }
        if k.is_multiple_of(7) {
            q.states = vec![State::Submitted, State::Assigned];
        }
        out.push((kind, q));
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let total: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let searches: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_000);
    let given = args.next().map(std::path::PathBuf::from);
    let keep = given.is_some();
    let dir = given.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("phananh-search-{}", uuid::Uuid::new_v4()))
    });
    let store = SqliteStore::open(&dir, StoreOptions::default())?;

    let have = {
        let page = store
            .query(&ReportQuery {
                text: Some("de nghi".into()),
                limit: 1,
                ..Default::default()
            })
            .await?;
        page.items.len()
    };
    if have == 0 {
        let writers = 256;
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..writers {
            let store = store.clone();
            let next = next.clone();
            tasks.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return Ok::<(), String>(());
                    }
                    if i > 0 && i.is_multiple_of(100_000) {
                        eprintln!("  {i} reports stored");
                    }
                    store
                        .create(&report(i), &[], None)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r??;
        }
        let secs = start.elapsed().as_secs_f64();
        let stats = store.writer_stats();
        println!(
            "filled {total} reports with {writers} concurrent writers in {secs:.0} s \
             ({:.0} creates/s, {:.0} per commit)",
            total as f64 / secs,
            stats.requests as f64 / stats.commits.max(1) as f64
        );
    } else {
        println!("reusing the reports already stored in {}", dir.display());
    }

    let qs = queries(searches);
    // Warm the page cache as a running server would be.
    for (_, q) in qs.iter().take(20) {
        store.query(q).await?;
    }
    let mut all = Vec::with_capacity(qs.len());
    let mut by_kind: std::collections::BTreeMap<&str, (Vec<f64>, usize)> = Default::default();
    for (k, (kind, q)) in qs.iter().enumerate() {
        let t = Instant::now();
        let page = store.query(q).await?;
        // Every third search also asks for its next page (cursor paging).
        let mut ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut found = page.items.len();
        if k.is_multiple_of(3) {
            if let Some(c) = page.next_cursor {
                let t = Instant::now();
                let next = store
                    .query(&ReportQuery {
                        cursor: Some(c),
                        ..q.clone()
                    })
                    .await?;
                ms = ms.max(t.elapsed().as_secs_f64() * 1000.0);
                found += next.items.len();
            }
        }
        all.push(ms);
        let e = by_kind.entry(kind).or_default();
        e.0.push(ms);
        e.1 += found;
    }
    let sort = |v: &mut Vec<f64>| v.sort_by(|a, b| a.total_cmp(b));
    sort(&mut all);
    println!(
        "{searches} searches over {total} reports: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(0.0)
    );
    for (kind, (mut v, found)) in by_kind {
        sort(&mut v);
        println!(
            "  {kind:<18} n={:<4} p50 {:>7.2} ms  p99 {:>7.2} ms  (avg {:.0} results shown)",
            v.len(),
            percentile(&v, 0.50),
            percentile(&v, 0.99),
            found as f64 / v.len().max(1) as f64
        );
    }
    store.close();
    drop(store);
    if !keep {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
