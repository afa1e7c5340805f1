//! Committed fixtures minted by next-auth@4.24.15 and @auth/core@0.41.3 (`interop/gen-fixtures.mjs`).

mod common;

#[tokio::test]
async fn fixtures_from_the_real_libraries_decode_to_their_claims() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/nextauth_cases.json"
    );
    let json = std::fs::read_to_string(path).expect("tests/fixtures/nextauth_cases.json");
    let cases: common::cases::Cases = serde_json::from_str(&json).unwrap();
    common::cases::check_all(&cases).await;
}
