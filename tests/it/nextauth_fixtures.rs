//! Committed fixtures minted by next-auth@4.24.15 and @auth/core@0.41.3 (`interop/gen-fixtures.mjs`).

use crate::support::{cases, fixture};

#[tokio::test]
async fn fixtures_from_the_real_libraries_decode_to_their_claims() {
    let cases: cases::Cases = serde_json::from_str(&fixture("nextauth_cases.json")).unwrap();
    cases::check_all(&cases).await;
}
