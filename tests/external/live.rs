//! Live interop: the real next-auth@4 and @auth/core mint fresh tokens under a random secret and
//! payload on every run (`interop/mint.mjs`), and our layer must read exactly what they read.
//!
//! Needs Node and `npm ci --prefix interop`; it fails (never skips) when they are missing.

use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use serde_json::json;

use crate::support::{cases, interop_node};

fn random_payload(rng: &mut impl Rng) -> serde_json::Value {
    let name: String = ["Zoë", "Łukasz", "李雷", "Ada", "Renée 🚀"][rng.gen_range(0..5)].to_owned();
    let mut payload = json!({
        "name": format!("{name} {}", Alphanumeric.sample_string(rng, 6)),
        "email": format!("{}@example.com", Alphanumeric.sample_string(rng, 8).to_lowercase()),
        "picture": "https://example.com/a.png",
        "sub": rng.gen_range(1..1_000_000u32).to_string(),
        "role": if rng.gen() { "admin" } else { "user" },
        "accessToken": Alphanumeric.sample_string(rng, 40),
        "nested": {"groups": ["a", "b"], "n": rng.gen_range(0..100)},
    });
    if rng.gen_bool(0.5) {
        // Large claims: several KB, so the encoded cookie spans chunks.
        payload["notes"] = json!("€".repeat(rng.gen_range(1000..3000)));
    }
    payload
}

#[tokio::test]
async fn tokens_minted_now_by_next_auth_and_auth_core_decode_identically() {
    let mut rng = rand::thread_rng();
    let request = json!({
        "secret": Alphanumeric.sample_string(&mut rng, 43),
        "old_secret": Alphanumeric.sample_string(&mut rng, 43),
        "payload": random_payload(&mut rng),
    });
    let stdout = interop_node("mint.mjs", &[], request.to_string().as_bytes());
    let cases: cases::Cases = serde_json::from_slice(&stdout).unwrap();
    cases::check_all(&cases).await;
}
