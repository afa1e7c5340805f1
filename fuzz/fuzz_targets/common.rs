// Shared by the fuzz targets: one set of layers, built once.
use std::sync::OnceLock;

use tower_nextauth::{AuthLayer, Format};

pub const SECRET: &str = "fuzzing-secret-0123456789abcdef0123456789";
pub const NOW: i64 = 1_793_491_200;

pub fn layer() -> &'static AuthLayer {
    static LAYER: OnceLock<AuthLayer> = OnceLock::new();
    LAYER.get_or_init(|| {
        tower_nextauth::Builder::new()
            .secrets([SECRET, "an-older-secret-for-rotation-0123456789"])
            .formats([Format::V5, Format::V4])
            .either_prefix(true)
            .clock(|| NOW)
            .url("https://app.example.com")
            .unwrap()
            .build()
            .unwrap()
    })
}
