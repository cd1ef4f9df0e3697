use std::io::{BufReader, Read};

use statements::{parse_ibkr, IbkrReader, IbkrRecord};

use super::{assert_refused, opt_plain, plain};

const FLEX: &[u8] = include_bytes!("../fixtures/ibkr_flex.xml");
const DASHED: &[u8] = include_bytes!("../fixtures/ibkr_flex_dashed_dates.xml");

#[test]
fn flex_statement_parses_to_exact_values() {
    let statements = parse_ibkr(FLEX).unwrap();
    assert_eq!(statements.len(), 1);
    let st = &statements[0];
    assert_eq!(st.header.account_id, "U1234567");
    assert_eq!(st.header.from_date.to_string(), "2024-01-02");
    assert_eq!(st.header.to_date.to_string(), "2024-01-05");
    assert_eq!(st.header.period.as_deref(), Some("LastNDays"));
    let generated = st.header.when_generated.unwrap().to_string();
    assert_eq!(generated, "2024-01-06 03:15:23");
    let query = st.header.query_name.as_deref();
    assert_eq!(query, Some("Daily positions, cash and trades"));

    // The LOT row repeats AAPL's summary and is skipped.
    let symbols: Vec<_> = st.positions.iter().map(|p| p.symbol.as_str()).collect();
    assert_eq!(symbols, ["AAPL", "SAP", "BTC"]);
    let aapl = &st.positions[0];
    assert_eq!(aapl.conid, "265598");
    assert_eq!(aapl.asset_category, "STK");
    assert_eq!(aapl.description.as_deref(), Some("APPLE INC"));
    assert_eq!(plain(&aapl.position), "10");
    assert_eq!(plain(&aapl.mark_price), "181.18");
    assert_eq!(plain(&aapl.position_value), "1811.8");
    assert_eq!(
        opt_plain(&aapl.cost_basis_price).as_deref(),
        Some("150.123456")
    );
    assert_eq!(aapl.report_date.to_string(), "2024-01-05");
    assert_eq!(
        aapl.natural_key(),
        "ibkr:position:U1234567:265598:2024-01-05"
    );
    let sap = &st.positions[1];
    assert_eq!(
        (sap.currency.as_str(), plain(&sap.position)),
        ("EUR", "-3".into())
    );
    assert_eq!(sap.cost_basis_price, None);
    assert_eq!(opt_plain(&sap.fx_rate_to_base).as_deref(), Some("1.0945"));
    assert_eq!(plain(&st.positions[2].position), "0.00012345");
}

#[test]
fn flex_cash_skips_base_summary() {
    let st = &parse_ibkr(FLEX).unwrap()[0];
    let currencies: Vec<_> = st.cash.iter().map(|c| c.currency.as_str()).collect();
    assert_eq!(currencies, ["EUR", "USD"]);
    let eur = &st.cash[0];
    assert_eq!(plain(&eur.ending_cash), "1234.56");
    assert_eq!(
        opt_plain(&eur.ending_settled_cash).as_deref(),
        Some("1200.00")
    );
    assert_eq!(opt_plain(&eur.starting_cash).as_deref(), Some("1000"));
    assert_eq!(eur.to_date.to_string(), "2024-01-05");
    assert_eq!(eur.natural_key(), "ibkr:cash:U1234567:EUR:2024-01-05");
    assert_eq!(plain(&st.cash[1].ending_cash), "8513.197");
}

#[test]
fn flex_trades_parse_and_skip_orders() {
    let st = &parse_ibkr(FLEX).unwrap()[0];
    assert_eq!(st.trades.len(), 2, "the <Order> row is not a trade");
    let buy = &st.trades[0];
    assert_eq!(buy.trade_id.as_deref(), Some("681234567"));
    assert_eq!(buy.transaction_id.as_deref(), Some("2345678901"));
    assert_eq!(buy.trade_date.to_string(), "2024-01-03");
    assert_eq!(buy.date_time.unwrap().to_string(), "2024-01-03 09:30:12");
    assert_eq!(buy.settle_date.unwrap().to_string(), "2024-01-05");
    assert_eq!(plain(&buy.quantity), "10");
    assert_eq!(plain(&buy.trade_price), "184.25");
    assert_eq!(plain(&buy.proceeds), "-1842.5");
    assert_eq!(plain(&buy.ib_commission), "-1");
    assert_eq!(buy.ib_commission_currency.as_deref(), Some("USD"));
    assert_eq!(opt_plain(&buy.net_cash).as_deref(), Some("-1843.5"));
    assert_eq!(buy.buy_sell, "BUY");
    assert_eq!(
        buy.natural_key(),
        "ibkr:trade:U1234567:681234567:2345678901"
    );
    let fx = &st.trades[1];
    assert_eq!(
        (fx.asset_category.as_str(), fx.symbol.as_str()),
        ("CASH", "EUR.USD")
    );
    assert_eq!(plain(&fx.quantity), "-1000.5");
    assert_eq!(plain(&fx.trade_price), "1.09451");
    assert_eq!(plain(&fx.proceeds), "1095.057255");
}

#[test]
fn dashed_dates_comma_times_and_header_fallbacks() {
    let statements = parse_ibkr(DASHED).unwrap();
    assert_eq!(statements.len(), 2);
    let first = &statements[0];
    let generated = first.header.when_generated.unwrap().to_string();
    assert_eq!(generated, "2024-03-29 06:00:01");
    // No accountId on the row: the statement's is used.
    assert_eq!(first.positions[0].account_id, "U7654321");
    assert_eq!(first.positions[0].report_date.to_string(), "2024-03-28");
    let trade = &first.trades[0];
    assert_eq!(trade.date_time.unwrap().to_string(), "2024-03-12 10:15:42");
    assert_eq!(trade.trade_date.to_string(), "2024-03-12");
    let second = &statements[1];
    assert_eq!(second.header.account_id, "U7654322");
    assert!(second.trades.is_empty() && second.positions.is_empty());
    // No fromDate/toDate on the row: the statement's are used.
    let cash = &second.cash[0];
    assert_eq!(cash.from_date.to_string(), "2024-03-01");
    assert_eq!(cash.to_date.to_string(), "2024-03-28");
    assert_eq!(plain(&cash.ending_cash), "0.000000000000000001");
}

#[test]
fn reader_yields_records_in_document_order() {
    let kinds: Vec<&str> = IbkrReader::new(FLEX)
        .map(|r| match r.unwrap() {
            IbkrRecord::Statement(_) => "statement",
            IbkrRecord::Position(_) => "position",
            IbkrRecord::Cash(_) => "cash",
            IbkrRecord::Trade(_) => "trade",
        })
        .collect();
    let expected = [
        "statement",
        "cash",
        "cash",
        "position",
        "position",
        "position",
        "trade",
        "trade",
    ];
    assert_eq!(kinds, expected);
}

fn flex_error(xml: &str) -> statements::StatementError {
    parse_ibkr(xml.as_bytes()).unwrap_err()
}

/// The fixture with one attribute of the first `Trade` replaced.
fn with_trade_attr(attr: &str, replacement: &str) -> String {
    let text = std::str::from_utf8(FLEX).unwrap();
    let at = text.find("<Trade ").unwrap();
    let start = at + text[at..].find(&format!(" {attr}=\"")).unwrap();
    let end = start + attr.len() + 3 + text[start + attr.len() + 3..].find('"').unwrap() + 1;
    format!("{}{replacement}{}", &text[..start], &text[end..])
}

#[test]
fn bad_values_name_element_attribute_and_line() {
    let err = flex_error(&with_trade_attr("quantity", " quantity=\"1,5\""));
    assert_refused(
        err,
        &[
            "IBKR Flex XML line 18",
            "<Trade>",
            "\"quantity\"",
            "\"1,5\"",
            "decimal",
        ],
    );
    let err = flex_error(&with_trade_attr("tradeDate", " tradeDate=\"01/03/2024\""));
    assert_refused(err, &["line 18", "<Trade>", "\"tradeDate\"", "date format"]);
    let err = flex_error(&with_trade_attr("dateTime", " dateTime=\"20240103 9:30\""));
    assert_refused(err, &["<Trade>", "\"dateTime\"", "date-time"]);
    let err = flex_error(&with_trade_attr("proceeds", ""));
    assert_refused(
        err,
        &[
            "line 18",
            "<Trade> has no attribute \"proceeds\"",
            "Flex Query",
        ],
    );
    let err = flex_error(&with_trade_attr("quantity", " quantity=\"\""));
    assert_refused(err, &["<Trade> has no attribute \"quantity\""]);
    let no_ids = with_trade_attr("tradeID", "");
    let no_ids = no_ids.replacen(" transactionID=\"2345678901\"", "", 1);
    assert_refused(
        flex_error(&no_ids),
        &["neither \"tradeID\" nor \"transactionID\""],
    );
    let header = std::str::from_utf8(FLEX)
        .unwrap()
        .replace("fromDate=\"20240102\" toDate", "toDate");
    assert_refused(
        flex_error(&header),
        &["line 4", "<FlexStatement> has no attribute \"fromDate\""],
    );
}

#[test]
fn foreign_and_broken_files_are_refused() {
    let wise = include_str!("../fixtures/wise_statement.csv");
    assert_refused(
        flex_error(wise),
        &["line 1", "outside any element", "not an XML file"],
    );
    let json = include_str!("../fixtures/okx_bills.json");
    assert_refused(flex_error(json), &["not an XML file"]);
    let other = "<?xml version=\"1.0\"?>\n<Statement><Trade/></Statement>";
    assert_refused(
        flex_error(other),
        &["line 2", "root element is <Statement>", "Flex Query"],
    );
    let status = "<FlexStatementResponse><Status>Warn</Status></FlexStatementResponse>";
    assert_refused(flex_error(status), &["Flex Web Service status reply"]);
    assert_refused(flex_error(""), &["line 1", "no XML element"]);
    assert_refused(flex_error("  \n "), &["no XML element"]);
    let twice = "<FlexQueryResponse/><FlexQueryResponse/>";
    assert_refused(flex_error(twice), &["second root element"]);
}

#[test]
fn truncated_files_are_refused() {
    let text = std::str::from_utf8(FLEX).unwrap();
    let cut = &text[..text.find("<CashTransactions>").unwrap()];
    assert_refused(
        flex_error(cut),
        &["line 22", "ends inside <FlexStatement>", "truncated"],
    );
    let mid_tag = &text[..text.find("symbol=\"EUR.USD\"").unwrap()];
    assert_refused(
        flex_error(mid_tag),
        &["IBKR Flex XML line", "malformed XML"],
    );
    let mismatched = text.replace("</Trades>", "</Trade>");
    assert_refused(flex_error(&mismatched), &["malformed XML", "Trade"]);
}

#[test]
fn reader_stops_after_its_error() {
    let bad = with_trade_attr("quantity", " quantity=\"x\"");
    let items: Vec<_> = IbkrReader::new(bad.as_bytes()).collect();
    assert!(items.last().unwrap().is_err());
    assert_eq!(items.iter().filter(|r| r.is_err()).count(), 1);
}

/// Produces a Flex statement with `trades` trades on the fly, so the test
/// also shows the reader needs no more memory than one element.
struct GeneratedFlex {
    trades: usize,
    next: usize,
    pending: Vec<u8>,
    offset: usize,
    finished: bool,
}

impl GeneratedFlex {
    fn new(trades: usize) -> Self {
        let head = concat!(
            "<FlexQueryResponse queryName=\"big\" type=\"AF\">\n<FlexStatements count=\"1\">\n",
            "<FlexStatement accountId=\"U1\" fromDate=\"20240101\" toDate=\"20241231\">\n<Trades>\n"
        );
        Self {
            trades,
            next: 0,
            pending: head.as_bytes().to_vec(),
            offset: 0,
            finished: false,
        }
    }

    fn refill(&mut self) {
        self.pending.clear();
        self.offset = 0;
        let end = (self.next + 1000).min(self.trades);
        for i in self.next..end {
            let line = format!(
                "<Trade accountId=\"U1\" currency=\"USD\" assetCategory=\"STK\" symbol=\"S{i}\" \
                 conid=\"{i}\" tradeID=\"{i}\" transactionID=\"9{i}\" tradeDate=\"20240102\" \
                 dateTime=\"20240102;093000\" quantity=\"{i}.5\" tradePrice=\"1.25\" \
                 proceeds=\"-12.5\" ibCommission=\"-1\" ibCommissionCurrency=\"USD\" buySell=\"BUY\" />\n"
            );
            self.pending.extend_from_slice(line.as_bytes());
        }
        self.next = end;
        if end == self.trades && !self.finished {
            let tail = "</Trades>\n</FlexStatement>\n</FlexStatements>\n</FlexQueryResponse>\n";
            self.pending.extend_from_slice(tail.as_bytes());
            self.finished = true;
        }
    }
}

impl Read for GeneratedFlex {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.offset == self.pending.len() {
            if self.finished {
                return Ok(0);
            }
            self.refill();
        }
        let n = out.len().min(self.pending.len() - self.offset);
        out[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

#[test]
fn streams_100_000_trades() {
    let reader = IbkrReader::new(BufReader::new(GeneratedFlex::new(100_000)));
    let mut trades = 0usize;
    let mut last_key = String::new();
    for record in reader {
        if let IbkrRecord::Trade(trade) = record.unwrap() {
            trades += 1;
            last_key = trade.natural_key();
        }
    }
    assert_eq!(trades, 100_000);
    assert_eq!(last_key, "ibkr:trade:U1:99999:999999");
}
