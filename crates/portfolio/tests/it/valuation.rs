//! Currency conversion and holding valuation, with expected values computed independently
//! (Python's `decimal` at 200 digits, ROUND_HALF_EVEN).

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use portfolio::valuation::{BASE_VALUE_SCALE, CONVERT_SCALE};
use portfolio::{value_holdings, Holding, MissingRate, Rate, RateBook, ValuationError};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn dec(text: &str) -> BigDecimal {
    text.parse().unwrap()
}

fn rate(date: &str, from: &str, to: &str, value: &str) -> Rate {
    Rate {
        date: day(date),
        from: from.into(),
        to: to.into(),
        rate: dec(value),
    }
}

/// USD→CNY on 05-01, 05-06 and (too late for 05-06) 05-07; EUR→USD and USDT→USD only,
/// so EUR and USDT reach CNY through USD; CNY→HKD only, so HKD→CNY is the inverse.
fn book() -> RateBook {
    RateBook::new([
        rate("2025-05-01", "USD", "CNY", "7.1000"),
        rate("2025-05-06", "USD", "CNY", "7.2345"),
        rate("2025-05-07", "USD", "CNY", "7.9999"),
        rate("2025-05-05", "EUR", "USD", "1.1234"),
        rate("2025-05-06", "USDT", "USD", "0.9998"),
        rate("2025-05-06", "CNY", "HKD", "1.0823"),
    ])
    .unwrap()
}

fn holding(platform: &str, code: &str, currency: &str, qty: &str, price: Option<&str>) -> Holding {
    Holding {
        platform: platform.into(),
        asset_type: "test".into(),
        asset_code: code.into(),
        currency: currency.into(),
        quantity: dec(qty),
        price: price.map(dec),
        value: None,
    }
}

fn holdings() -> Vec<Holding> {
    let mut cash = holding("wise", "EUR", "EUR", "2500.00", None);
    cash.value = Some(dec("2500.00"));
    let mut tie = holding("bank", "CNY", "CNY", "0.125", None);
    tie.value = Some(dec("0.125"));
    vec![
        holding("alipay", "110011", "CNY", "1234.56", Some("1.2345")),
        holding("ibkr", "AAPL", "USD", "10", Some("198.765")),
        cash,
        // A token priced in USD: its currency is USD.
        holding("okx", "ETH", "USD", "0.12345678", Some("3456.78")),
        holding("okx", "USDT", "USDT", "1000", Some("1")),
        holding("futu", "00700", "HKD", "100", Some("385.20")),
        tie,
    ]
}

fn base_values(base: &str) -> Vec<String> {
    let valued = value_holdings(&holdings(), base, day("2025-05-06"), &book()).unwrap();
    valued.iter().map(|v| v.base_value.to_string()).collect()
}

#[test]
fn holdings_valued_in_cny() {
    let want = [
        "1524.06",  // 1524.064320 CNY
        "14379.65", // 1987.650 × 7.2345 = 14379.6539250
        "20318.09", // 2500.00 × 1.1234 × 7.2345 = 20318.09325
        "3087.42",  // 426.7629279684 × 7.2345 = 3087.4164023873898
        "7233.05",  // 1000 × 0.9998 × 7.2345 = 7233.0531
        "35590.87", // 38520.00 / 1.0823 = 35590.8712926…
        "0.12",     // 0.125: half-even
    ];
    assert_eq!(base_values("CNY"), want);
    let valued = value_holdings(&holdings(), "CNY", day("2025-05-06"), &book()).unwrap();
    let values: Vec<_> = valued.iter().map(|v| v.value.to_string()).collect();
    let want_values = [
        "1524.064320",
        "1987.650",
        "2500.00",
        "426.7629279684",
        "1000",
        "38520.00",
        "0.125",
    ];
    assert_eq!(values, want_values);
}

#[test]
fn holdings_valued_in_usd() {
    let want = [
        "210.67",  // 1524.064320 / 7.2345 = 210.6661579…
        "1987.65", // same currency
        "2808.50", // 2500.00 × 1.1234
        "426.76",  // 426.7629279684
        "999.80",  // 1000 × 0.9998
        "4919.60", // 38520.00 / 1.0823 / 7.2345 = 4919.6034684…
        "0.02",    // 0.125 / 7.2345 = 0.01727…
    ];
    assert_eq!(base_values("USD"), want);
}

#[test]
fn routes_direct_inverse_and_through_one_currency() {
    let book = book();
    let on = day("2025-05-06");
    let direct = book.route("USD", "CNY", on).unwrap();
    assert_eq!(direct.legs.len(), 1);
    assert!(!direct.legs[0].inverse);
    let inverse = book.route("CNY", "USD", on).unwrap();
    assert!(inverse.legs[0].inverse);
    assert_eq!(inverse.legs[0].rate, dec("7.2345"));
    let via: Vec<_> = book.route("EUR", "CNY", on).unwrap().legs;
    let hops: Vec<_> = via
        .iter()
        .map(|l| (l.from.as_str(), l.to.as_str()))
        .collect();
    assert_eq!(hops, [("EUR", "USD"), ("USD", "CNY")]);
    assert_eq!(via[0].date, day("2025-05-05"));
    assert!(book.route("CNY", "CNY", on).unwrap().legs.is_empty());
}

#[test]
fn inverse_rate_is_divided_to_18_places() {
    let book = book();
    let on = day("2025-05-06");
    let usd = book.convert(&dec("100"), "CNY", "USD", on).unwrap();
    assert_eq!(usd.to_string(), "13.822655332089294353");
    assert_eq!(usd.fractional_digit_count(), CONVERT_SCALE);
    let usd = book
        .convert_rounded(&dec("100"), "CNY", "USD", on, BASE_VALUE_SCALE)
        .unwrap();
    assert_eq!(usd.to_string(), "13.82");
    // Same currency: unchanged, not even rescaled.
    let same = book.convert(&dec("12.3"), "CNY", "CNY", on).unwrap();
    assert_eq!(same.to_string(), "12.3");
}

#[test]
fn latest_earlier_rate_is_used_and_a_later_one_never() {
    let book = book();
    let amount = dec("100");
    let cny = |on: &str| book.convert(&amount, "USD", "CNY", day(on));
    assert_eq!(cny("2025-05-01").unwrap().to_string(), "710.0000");
    assert_eq!(cny("2025-05-04").unwrap().to_string(), "710.0000");
    assert_eq!(cny("2025-05-06").unwrap().to_string(), "723.4500");
    assert_eq!(cny("2025-05-30").unwrap().to_string(), "799.9900");
    // Only later rows exist for 04-30: refused, not borrowed from the future.
    let err = cny("2025-04-30").unwrap_err();
    let want = ValuationError::MissingRate {
        from: "USD".into(),
        to: "CNY".into(),
        on: day("2025-04-30"),
    };
    assert_eq!(err, want);
}

#[test]
fn the_fresher_of_direct_and_inverse_wins() {
    let book = RateBook::new([
        rate("2025-05-01", "USD", "CNY", "7.1000"),
        rate("2025-05-03", "CNY", "USD", "0.1250"),
    ])
    .unwrap();
    let got = book
        .convert(&dec("1"), "USD", "CNY", day("2025-05-02"))
        .unwrap();
    assert_eq!(got.to_string(), "7.1000");
    let got = book
        .convert(&dec("1"), "USD", "CNY", day("2025-05-03"))
        .unwrap();
    assert_eq!(got, dec("8"));
}

#[test]
fn missing_rate_names_the_pair_the_date_and_the_fix() {
    let book = book();
    let err = book
        .convert(&dec("1"), "JPY", "CNY", day("2025-05-06"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "no exchange rate JPY→CNY on or before 2025-05-06 (none direct, inverse, or through \
         one other currency): add an exchange_rate_snapshots row with from_currency JPY, \
         to_currency CNY and snapshot_date on or before 2025-05-06"
    );
}

#[test]
fn value_holdings_lists_every_problem_at_once() {
    let mut list = holdings();
    list.push(holding("sbi", "7203", "JPY", "100", Some("2500")));
    list.push(holding("sbi", "9984", "JPY", "10", Some("8000")));
    list.push(holding("kraken", "SOL", "GBP", "3", Some("120")));
    list.push(holding("manual", "GOLD", "CNY", "10", None));
    let err = value_holdings(&list, "CNY", day("2025-05-06"), &book()).unwrap_err();
    let ValuationError::Incomplete {
        missing_rates,
        unpriced,
    } = &err
    else {
        panic!("{err:?}");
    };
    let pairs: Vec<_> = missing_rates.iter().map(|m| (&*m.from, &*m.to)).collect();
    assert_eq!(pairs, [("GBP", "CNY"), ("JPY", "CNY")]);
    assert_eq!(unpriced.len(), 1);
    let text = err.to_string();
    assert!(text.starts_with("3 holding valuation problem(s):\n- no exchange rate GBP→CNY"));
    assert!(text.contains("\n- no exchange rate JPY→CNY on or before 2025-05-06"));
    assert!(text.ends_with(
        "\n- manual GOLD has neither a value nor a price: record its market value or current price"
    ));
    let one = MissingRate {
        from: "GBP".into(),
        to: "CNY".into(),
        on: day("2025-05-06"),
    };
    assert_eq!(missing_rates[0], one);
}

#[test]
fn thirty_digit_amounts_are_exact() {
    let book = book();
    let on = day("2025-05-06");
    let big = dec("123456789012345678901234567890.12");
    let cny = book.convert(&big, "USD", "CNY", on).unwrap();
    assert_eq!(cny.to_string(), "893148140109814814010981481401.073140");
    let usd = book.convert(&big, "CNY", "USD", on).unwrap();
    assert_eq!(
        usd.to_string(),
        "17065006429241230064445997358.507153224134356210"
    );
    let mut whale = holding("bank", "CASH", "CNY", "1", None);
    whale.value = Some(big);
    let valued = value_holdings(&[whale], "USD", on, &book).unwrap();
    assert_eq!(
        valued[0].base_value.to_string(),
        "17065006429241230064445997358.51"
    );
}

#[test]
fn bad_rate_rows_are_refused() {
    let err = RateBook::new([rate("2025-05-06", "USD", "CNY", "0")]).unwrap_err();
    assert!(
        err.to_string().contains("USD→CNY on 2025-05-06 is 0"),
        "{err}"
    );
    let err = RateBook::new([
        rate("2025-05-06", "USD", "CNY", "7.2"),
        rate("2025-05-06", "USD", "CNY", "7.3"),
    ])
    .unwrap_err();
    assert!(
        matches!(err, ValuationError::ConflictingRate { .. }),
        "{err}"
    );
    // The same row twice is harmless.
    RateBook::new([
        rate("2025-05-06", "USD", "CNY", "7.2"),
        rate("2025-05-06", "USD", "CNY", "7.20"),
    ])
    .unwrap();
}

#[test]
fn a_stored_value_wins_over_quantity_times_price() {
    let mut h = holding("ibkr", "AAPL", "USD", "10", Some("198.765"));
    h.value = Some(dec("1990.00"));
    let valued = value_holdings(&[h], "USD", day("2025-05-06"), &book()).unwrap();
    assert_eq!(valued[0].value.to_string(), "1990.00");
    assert_eq!(valued[0].base_value.to_string(), "1990.00");
}
