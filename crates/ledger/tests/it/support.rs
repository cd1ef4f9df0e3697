//! Rows for the tests, written through the models as the API would.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use db_conn::DbConnection;
use pf_data::decimal::Decimal;
use pf_data::models::*;
use pf_data::resource::Resource;

pub use test_kit::TestDb;

pub fn d(text: &str) -> NaiveDate {
    text.parse().expect("test date")
}

pub fn t(text: &str) -> NaiveDateTime {
    text.parse().expect("test timestamp")
}

pub fn dec(text: &str) -> Decimal {
    text.parse().expect("test decimal")
}

pub fn plan(name: &str, amount: &str, start: &str) -> NewDcaPlan {
    NewDcaPlan {
        plan_name: name.into(),
        platform: "Alipay".into(),
        asset_code: "110011".into(),
        amount: dec(amount),
        currency: "CNY".into(),
        frequency: "weekly".into(),
        status: "active".into(),
        frequency_value: None,
        start_date: Some(d(start)),
        end_date: None,
        last_executed_date: None,
        fee_rate: None,
        asset_type: "fund".into(),
        exclude_dates: None,
    }
}

pub fn create_plan(conn: &mut DbConnection, input: &NewDcaPlan) -> i64 {
    DcaPlan::create(conn, input).expect("create plan").id
}

pub fn set_setting(conn: &mut DbConnection, key: &str, value: &str) {
    use pf_data::schema::system_config::dsl as sc;
    diesel::update(sc::system_config.filter(sc::config_key.eq(key)))
        .set(sc::config_value.eq(value))
        .execute(conn)
        .expect("update setting");
}

pub fn rate(conn: &mut DbConnection, date: &str, from: &str, to: &str, rate: &str) {
    let input = NewExchangeRateSnapshot {
        snapshot_date: d(date),
        snapshot_time: d(date).and_hms_opt(8, 0, 0).unwrap(),
        from_currency: from.into(),
        to_currency: to.into(),
        rate: dec(rate),
        source: Some("test".into()),
    };
    ExchangeRateSnapshot::create(conn, &input).expect("create rate");
}

/// A manual holding created at `created` (positions count from their creation).
pub fn position(
    conn: &mut DbConnection,
    (platform, code, currency): (&str, &str, &str),
    quantity: &str,
    price: Option<&str>,
    created: &str,
) {
    use pf_data::schema::asset_positions::dsl as ap;
    let input = NewAssetPosition {
        platform: platform.into(),
        asset_type: "fund".into(),
        asset_code: code.into(),
        asset_name: Some(format!("{code} name")),
        currency: currency.into(),
        quantity: dec(quantity),
        avg_cost: None,
        current_price: price.map(dec),
        market_value: None,
    };
    let id = AssetPosition::create(conn, &input)
        .expect("create position")
        .id;
    diesel::update(ap::asset_positions.find(id))
        .set(ap::created_at.eq(t(created)))
        .execute(conn)
        .expect("date the position");
}

pub fn count<T>(conn: &mut DbConnection) -> i64
where
    T: Resource,
{
    T::count(conn, &Default::default()).expect("count")
}
