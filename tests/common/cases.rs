//! Cases minted by the real next-auth@4 / @auth/core (`interop/cases.mjs`), checked on our side.

use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use serde::Deserialize;
use tower::{service_fn, Layer, ServiceExt};
use tower_nextauth::{AuthLayer, Claims, Format};

#[derive(Debug, Deserialize)]
pub struct Cases {
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    pub format: String,
    pub secrets: Vec<String>,
    pub secure: bool,
    pub cookie_name: Option<String>,
    pub headers: std::collections::BTreeMap<String, String>,
    pub now: i64,
    pub expected: Option<serde_json::Value>,
    pub token: Option<String>,
}

impl Case {
    pub fn format(&self) -> Format {
        match self.format.as_str() {
            "v4" => Format::V4,
            "v5" => Format::V5,
            other => panic!("{}: unknown format {other}", self.name),
        }
    }

    pub fn layer(&self) -> AuthLayer {
        let now = self.now;
        let mut builder = AuthLayer::builder()
            .secrets(&self.secrets)
            .format(self.format())
            .secure_cookie(self.secure)
            .clock(move || now);
        if let Some(name) = &self.cookie_name {
            builder = builder.cookie_name(name);
        }
        builder.build().unwrap()
    }

    pub fn header_map(&self) -> HeaderMap {
        self.headers
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    /// Our reader and our layer must both give exactly what the library's `getToken` gave.
    pub async fn check(&self) {
        let layer = self.layer();
        let read = layer.sessions().read::<Claims>(&self.header_map());
        match (&self.expected, &read) {
            (Some(expected), Ok(token)) => assert_eq!(
                &serde_json::Value::Object(token.claims().clone()),
                expected,
                "{}: claims differ from the library's",
                self.name
            ),
            (None, Err(_)) => {}
            (expected, read) => panic!(
                "{}: library gave {expected:?}, we gave {:?}",
                self.name,
                read.as_ref().map(|t| t.claims())
            ),
        }

        // The same request through the layer: allowed with the library's claims, or redirected.
        let mut req = Request::get("/dashboard");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let svc = layer.layer(service_fn(super::echo));
        let res = svc.oneshot(req.body(String::new()).unwrap()).await.unwrap();
        match &self.expected {
            Some(expected) => {
                assert_eq!(res.status(), StatusCode::OK, "{}", self.name);
                let body: serde_json::Value = serde_json::from_str(res.body()).unwrap();
                assert_eq!(&body, expected, "{}", self.name);
            }
            None => assert_eq!(
                res.status(),
                StatusCode::TEMPORARY_REDIRECT,
                "{}",
                self.name
            ),
        }

        // The bare token decodes to the same claims.
        if let (Some(expected), Some(token)) = (&self.expected, &self.token) {
            let decoded = layer.sessions().decode::<Claims>(token).unwrap();
            assert_eq!(
                &serde_json::Value::Object(decoded.into_claims()),
                expected,
                "{}",
                self.name
            );
        }
    }
}

/// Runs every case and insists that the set is not trivially small or one-sided.
pub async fn check_all(cases: &Cases) {
    assert!(cases.cases.len() >= 20, "only {} cases", cases.cases.len());
    let accepted = cases.cases.iter().filter(|c| c.expected.is_some()).count();
    assert!(
        accepted >= 8 && cases.cases.len() - accepted >= 8,
        "cases are one-sided"
    );
    for case in &cases.cases {
        case.check().await;
    }
}
