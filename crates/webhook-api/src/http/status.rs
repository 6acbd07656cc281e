//! `GET /webhook/openhands/status`: which keys need refreshing, and the pool's shape.

use actix_web::{HttpResponse, web};
use adapters::KeyPool;
use serde_json::json;

use super::key_json::{KeyDisplay, date};
use super::problem::Problem;
use crate::application::KeyService;

pub async fn refresh_status<P: KeyPool>(
    service: web::Data<KeyService<P>>,
    display: web::Data<KeyDisplay>,
) -> Result<HttpResponse, Problem> {
    let status = service.check_refresh_status().await?;
    let keys: Vec<_> = status
        .keys
        .iter()
        .map(|key| {
            json!({
                "id": key.id.as_str(),
                "apiKey": display.api_key(&key.api_key),
                "status": key.status.as_str(),
                "lastError": key.last_error,
                "lastUsedAt": date(key.last_used_at),
                "createdAt": date(key.created_at),
                "updatedAt": date(key.updated_at),
            })
        })
        .collect();
    let summary = status.summary;
    Ok(HttpResponse::Ok().json(json!({
        "need_refresh": !keys.is_empty(),
        "count": keys.len(),
        "keys": keys,
        "summary": {
            "total": summary.total,
            "healthy": summary.healthy,
            "need_refresh": summary.need_refresh,
            "rate_limited": summary.rate_limited,
            "exhausted": summary.exhausted,
            "error": summary.error,
            "other": summary.other,
        },
        "checked_at": date(Some(status.checked_at)),
    })))
}
