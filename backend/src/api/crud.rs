//! The five handlers every resource shares: list, get, create, replace, delete.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::Write;
use super::{ApiJson, AppError, AppState};
use pf_data::resource::{ListFilter, Resource, DEFAULT_LIMIT, MAX_LIMIT};

pub fn collection_path<R: Resource>() -> String {
    format!("/api/v1/{}", R::TABLE)
}

pub fn item_path<R: Resource>() -> String {
    format!("/api/v1/{}/{{id}}", R::TABLE)
}

pub fn routes<R: Resource>() -> Router<AppState> {
    Router::new()
        .route(&collection_path::<R>(), get(list::<R>).post(create::<R>))
        .route(
            &item_path::<R>(),
            get(get_one::<R>).put(replace::<R>).delete(delete::<R>),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<i64>,
    offset: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl ListParams {
    fn into_filter(self) -> Result<ListFilter, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_request(format!(
                "limit {limit} is out of range: use 1 to {MAX_LIMIT} and page with offset"
            )));
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(AppError::bad_request(format!(
                "offset {offset} is negative"
            )));
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(AppError::bad_request(format!(
                    "from {from} is after to {to}"
                )));
            }
        }
        Ok(ListFilter {
            from: self.from,
            to: self.to,
            limit,
            offset,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

async fn list<R: Resource>(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Page<R>>, AppError> {
    let filter = params?.0.into_filter()?;
    let page = state
        .with_conn(move |conn| {
            let total = R::count(conn, &filter)?;
            let items = R::list(conn, &filter)?;
            Ok(Page {
                items,
                total,
                limit: filter.limit,
                offset: filter.offset,
            })
        })
        .await?;
    Ok(Json(page))
}

async fn get_one<R: Resource>(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<R>, AppError> {
    let id = id?.0;
    let row = state
        .with_conn(move |conn| {
            R::get(conn, id).map_err(|e| AppError::from_write(e, R::TABLE, Some(id), Write::Store))
        })
        .await?;
    Ok(Json(row))
}

async fn create<R: Resource>(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<R::Input>,
) -> Result<impl IntoResponse, AppError> {
    R::validate(&input).map_err(AppError::unprocessable)?;
    let row = state
        .with_conn(move |conn| {
            R::create(conn, &input)
                .map_err(|e| AppError::from_write(e, R::TABLE, None, Write::Store))
        })
        .await?;
    let location = serde_json::to_value(&row)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_i64()))
        .map(|id| format!("{}/{id}", collection_path::<R>()));
    let mut response = (StatusCode::CREATED, Json(row)).into_response();
    if let Some(value) = location.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn replace<R: Resource>(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    ApiJson(input): ApiJson<R::Input>,
) -> Result<Json<R>, AppError> {
    let id = id?.0;
    R::validate(&input).map_err(AppError::unprocessable)?;
    let row = state
        .with_conn(move |conn| {
            R::update(conn, id, &input)
                .map_err(|e| AppError::from_write(e, R::TABLE, Some(id), Write::Store))
        })
        .await?;
    Ok(Json(row))
}

async fn delete<R: Resource>(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let id = id?.0;
    state
        .with_conn(move |conn| match R::delete(conn, id) {
            Ok(0) => Err(AppError::not_found(format!(
                "{} has no row with id {id}",
                R::TABLE
            ))),
            Ok(_) => Ok(StatusCode::NO_CONTENT),
            Err(e) => Err(AppError::from_write(e, R::TABLE, Some(id), Write::Delete)),
        })
        .await
}
