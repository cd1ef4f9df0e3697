//! Daily valuations: every holding, and the FX rates used to value it in the base currency.

use chrono::{NaiveDate, NaiveDateTime};

use crate::decimal::Decimal;
use crate::resource::resource;

resource! {
    AssetSnapshot, NewAssetSnapshot => asset_snapshots,
    time: snapshot_date: NaiveDate,
    fields {
        snapshot_date: NaiveDate,
        snapshot_time: NaiveDateTime,
        platform: String,
        asset_type: String,
        asset_code: String,
        asset_name: Option<String>,
        currency: String,
        quantity: Decimal,
        price: Option<Decimal>,
        value: Decimal,
        base_value: Option<Decimal>,
    }
}

resource! {
    ExchangeRateSnapshot, NewExchangeRateSnapshot => exchange_rate_snapshots,
    time: snapshot_date: NaiveDate,
    fields {
        snapshot_date: NaiveDate,
        snapshot_time: NaiveDateTime,
        from_currency: String,
        to_currency: String,
        rate: Decimal,
        source: Option<String>,
    }
}
