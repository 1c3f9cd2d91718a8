//! Tests of the text folding and matching.

use super::*;

#[test]
fn strips_and_lowercases() {
    assert_eq!(
        normalize("Lấn chiếm VỈA HÈ, đường Trần Phú!"),
        "lan chiem via he duong tran phu"
    );
    assert_eq!(normalize("  Đ.m  "), "d m");
    assert_eq!(normalize(""), "");
}

#[test]
fn nfc_nfd_and_mark_order_agree() {
    let nfc = "Khiếu nại ở phường Quyết Thắng";
    let nfd: String = nfc.nfd().collect();
    assert_ne!(nfc, nfd);
    assert_eq!(normalize(nfc), normalize(&nfd));
    // e + acute + circumflex (odd order) folds to the same "ế".
    let odd = "khie\u{0301}\u{0302}u";
    assert_eq!(tokens(odd)[0].folded, "khiếu");
    assert_eq!(tokens(&nfd)[0].folded, "khiếu");
}

#[test]
fn teencode_expands() {
    assert_eq!(normalize("ko dc"), "khong duoc");
    assert_eq!(normalize("Xe oto đỗ ntn vậy"), "xe o to do nhu the nao vay");
}

#[test]
fn spans_point_into_the_original() {
    let s = "Đ.m  cán bộ";
    let t = tokens(s);
    assert_eq!(&s[t[0].span.clone()], "Đ");
    assert_eq!(&s[t[2].span.clone()], "cán");
}

#[test]
fn whole_words_only() {
    assert!(contains_phrase("tai nan giao thong", "giao thong"));
    assert!(!contains_phrase("nguon nuoc", "ngu"));
    assert!(!contains_phrase("admin he thong", "dm"));
    assert!(contains_phrase("k h i e u n a i", "khieu nai"));
    assert!(contains_phrase("toi khieunai", "khieu nai"));
    assert!(contains_phrase("nguuu qua", "ngu"));
    assert!(!contains_phrase("c", "cc"));
    assert!(contains_phrase("don k h i e u n a i", "don khieu nai"));
    assert!(contains_phrase("d mm", "dmm"));
    assert!(!contains_phrase("o nao", "on ao"));
    assert!(!contains_phrase("kh ieu nai", "khieu nai"));
}

#[test]
fn search_folding_keeps_teencode_and_strips_marks() {
    assert_eq!(
        fold_for_search("Ổ gà trên đường Trần Phú!"),
        "o ga tren duong tran phu"
    );
    assert_eq!(fold_for_search("ĐƯỜNG  đ.m ko"), "duong d m ko");
    let nfd: String = "Nậm Loỏng".nfd().collect();
    assert_eq!(fold_for_search(&nfd), "nam loong");
    assert_eq!(fold_for_search(" ,.; "), "");
}

#[test]
fn strip_diacritics_keeps_case_and_punctuation() {
    assert_eq!(
        strip_diacritics("Đơn vị: UBND phường Đoàn Kết – “đã xử lý”…"),
        "Don vi: UBND phuong Doan Ket - \"da xu ly\"..."
    );
    let nfd: String = "Nậm Loỏng".nfd().collect();
    assert_eq!(strip_diacritics(&nfd), "Nam Loong");
}
