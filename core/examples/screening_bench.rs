//! Cost of screening one report's text (Đ.6.3 out of scope, Đ.3.1.c abusive language, Đ.5
//! category suggestion, and the masking every public view applies), on the shipped config.
//!
//! `cargo run --release -p phananh-core --example screening_bench [ROUNDS]` prints the time per
//! text; under `valgrind --tool=callgrind` it gives the instructions per text, which do not
//! depend on the machine's load.

use phananh_core::city::CityRules;
use phananh_core::screening;
use std::time::Instant;

const TEXTS: &[&str] = &[
    "Rác thải đổ đầy vỉa hè đường Trần Hưng Đạo, bốc mùi hôi thối mấy ngày nay không ai dọn",
    "Đèn đường ở ngã ba Tân Phong bị hỏng từ tuần trước, buổi tối rất tối và nguy hiểm",
    "Xe tải đỗ kín lòng đường trước chợ trung tâm, gây ùn tắc giờ cao điểm",
    "ong hang xom ko cho dc di qua, lan chiem via he de ban hang",
    "Cống thoát nước bị tắc, mưa xuống là ngập cả đoạn đường gần trường tiểu học",
    "Cây xanh bị đổ chắn ngang đường sau cơn giông chiều nay",
    "Có người đốt rác thải nhựa gây khói bụi ô nhiễm khu dân cư",
    "Mặt đường bị sụt lún tạo ổ gà lớn, xe máy đi qua rất dễ ngã",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2_000);
    let rules = CityRules::laichau_default().map_err(|e| format!("{e:?}"))?;
    let cfg = &rules.config.screening;
    let mut found = 0usize;
    let started = Instant::now();
    for i in 0..rounds {
        let text = TEXTS[i % TEXTS.len()];
        found += usize::from(screening::out_of_scope(cfg, text).is_some());
        found += usize::from(screening::check_abusive(cfg, text).abusive);
        found += usize::from(screening::suggest_category(cfg, text).is_some());
        found += screening::mask_abusive(cfg, text).len() % 2;
    }
    let per = started.elapsed() / rounds as u32;
    println!("screening: {rounds} texts, {per:?} per text ({found} checks true)");
    Ok(())
}
