//! The dashboard's one stylesheet, compiled in: nothing comes from a CDN.

use axum::http::header;
use axum::response::IntoResponse;

pub const CSS_PATH: &str = "/static/ferry.css";

const CSS: &str = include_str!("../../assets/ferry.css");

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}
