use statements::parse_wise;

use super::{assert_refused, opt_plain, plain};

const STATEMENT: &str = include_str!("../fixtures/wise_statement.csv");

#[test]
fn statement_parses_to_exact_values() {
    let rows = parse_wise(STATEMENT.as_bytes()).unwrap();
    assert_eq!(rows.len(), 4);
    let rent = &rows[0];
    assert_eq!(rent.transaction_id, "TRANSFER-812345678");
    assert_eq!(rent.date.to_string(), "2024-01-05");
    assert_eq!(plain(&rent.amount), "-250.00");
    assert_eq!(rent.currency, "EUR");
    assert_eq!(rent.reference.as_deref(), Some("Rent January"));
    assert_eq!(plain(&rent.running_balance), "1520.35");
    assert_eq!(rent.payee_name.as_deref(), Some("Anna Schmidt"));
    assert_eq!(
        rent.payee_account_number.as_deref(),
        Some("DE89370400440532013000")
    );
    assert_eq!(plain(&rent.total_fees), "0.00");
    assert_eq!(rent.exchange_rate, None);
    assert_eq!(rent.natural_key(), "wise:TRANSFER-812345678:EUR");

    let card = &rows[1];
    assert_eq!(card.merchant.as_deref(), Some("Cafe Central"));
    assert_eq!(card.card_last_four_digits.as_deref(), Some("1234"));
    assert_eq!(card.note.as_deref(), Some("coffee, with \"friends\""));

    let conversion = &rows[2];
    assert_eq!(conversion.exchange_from.as_deref(), Some("EUR"));
    assert_eq!(conversion.exchange_to.as_deref(), Some("USD"));
    assert_eq!(
        opt_plain(&conversion.exchange_rate).as_deref(),
        Some("1.08537")
    );
    assert_eq!(
        opt_plain(&conversion.exchange_to_amount).as_deref(),
        Some("542.68")
    );
    assert_eq!(plain(&conversion.total_fees), "2.01");

    let salary = &rows[3];
    assert_eq!(salary.payer_name.as_deref(), Some("ACME GMBH"));
    assert_eq!(
        plain(&salary.total_fees),
        "0",
        "an empty fee cell is no fee"
    );
}

#[test]
fn iso_dates_byte_order_mark_date_time_and_column_order() {
    let csv = "\u{feff}Amount,Currency,Date,Date Time,TransferWise ID,Description,Running Balance,Total fees\n\
               123456789012345678901234567890.01,USD,2024-02-29,29-02-2024 23:59:58.123,CARD-1,x,1,0\n";
    let rows = parse_wise(csv.as_bytes()).unwrap();
    let row = &rows[0];
    assert_eq!(plain(&row.amount), "123456789012345678901234567890.01");
    assert_eq!(row.date.to_string(), "2024-02-29");
    assert_eq!(
        row.date_time.unwrap().to_string(),
        "2024-02-29 23:59:58.123"
    );
    assert_eq!(row.reference, None, "absent optional column");
}

/// The fixture with one cell of the data line `line` (2 = first) replaced.
fn with_cell(line: usize, column: usize, value: &str) -> String {
    let mut lines: Vec<String> = STATEMENT.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[line - 1].split("\",\"").map(str::to_owned).collect();
    let last = cells.len() - 1;
    cells[column] = match column {
        0 => format!("\"{value}"),
        c if c == last => format!("{value}\""),
        _ => value.to_owned(),
    };
    lines[line - 1] = cells.join("\",\"");
    lines.join("\n")
}

#[test]
fn bad_cells_name_line_and_column() {
    let err = parse_wise(with_cell(4, 2, "12,3x").as_bytes()).unwrap_err();
    let expected = "wise CSV line 4: column \"Amount\" is \"12,3x\", not a decimal; download";
    assert_refused(err, &[expected]);
    let err = parse_wise(with_cell(3, 1, "2024/01/04").as_bytes()).unwrap_err();
    assert_refused(
        err,
        &["line 3", "column \"Date\" is \"2024/01/04\"", "date"],
    );
    let err = parse_wise(with_cell(5, 1, "31-02-2024").as_bytes()).unwrap_err();
    assert_refused(err, &["line 5", "\"Date\""]);
    let err = parse_wise(with_cell(2, 6, "").as_bytes()).unwrap_err();
    assert_refused(err, &["line 2", "column \"Running Balance\" is empty"]);
    let err = parse_wise(with_cell(2, 18, "1 000.00").as_bytes()).unwrap_err();
    assert_refused(err, &["line 2", "\"Total fees\"", "not a decimal"]);
}

#[test]
fn missing_columns_and_foreign_files_are_refused() {
    let header_only = STATEMENT.replace("\"Running Balance\"", "\"Balance\"");
    let err = parse_wise(header_only.as_bytes()).unwrap_err();
    assert_refused(
        err,
        &[
            "wise CSV line 1",
            "the header has no column \"Running Balance\"",
        ],
    );
    let okx = include_str!("../fixtures/okx_bills.csv");
    let err = parse_wise(okx.as_bytes()).unwrap_err();
    assert_refused(
        err,
        &[
            "line 1",
            "the first line is not a header with column \"TransferWise ID\"",
        ],
    );
    let xml = include_str!("../fixtures/ibkr_flex.xml");
    assert_refused(
        parse_wise(xml.as_bytes()).unwrap_err(),
        &["not the expected wise CSV export"],
    );
    assert_refused(
        parse_wise(&b""[..]).unwrap_err(),
        &["line 1", "not a header"],
    );
    let short = format!(
        "{}\n\"TRANSFER-1\",\"05-01-2024\"",
        STATEMENT.lines().next().unwrap()
    );
    let err = parse_wise(short.as_bytes()).unwrap_err();
    assert_refused(err, &["line 2", "has 2 fields, the header has 20"]);
    let binary = [STATEMENT.as_bytes(), b"\"A\xff\",1\n"].concat();
    assert_refused(
        parse_wise(&binary[..]).unwrap_err(),
        &["line 6", "not UTF-8"],
    );
}
