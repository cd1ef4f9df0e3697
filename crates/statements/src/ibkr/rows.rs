//! Flex rows: one element's attributes to one typed record.

use std::borrow::Cow;

use bigdecimal::BigDecimal;
use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::BytesStart;
use quick_xml::{Decoder, XmlVersion};

use super::reader::{xml_error, At};
use super::{IbkrCash, IbkrPosition, IbkrStatementHeader, IbkrTrade};
use super::{HINT_AGAIN, HINT_DATE, HINT_FIELD};
use crate::error::{one_line, quote, StatementError};
use crate::text;

/// The attributes of one element with typed accessors whose errors name the
/// element, the attribute and the position. Values are decoded only when
/// asked for: a real Flex row has ~80 attributes, of which a record uses 20.
pub(super) struct Attrs<'a> {
    element: &'static str,
    at: At,
    decoder: Decoder,
    attrs: Vec<Attribute<'a>>,
}

impl<'a> Attrs<'a> {
    pub(super) fn read(
        start: &'a BytesStart<'a>,
        element: &'static str,
        at: At,
        decoder: Decoder,
    ) -> Result<Self, StatementError> {
        let attrs = start.attributes().collect::<Result<Vec<_>, _>>();
        let attrs = attrs.map_err(|err| {
            let problem = format!("<{element}> has a malformed attribute: {}", one_line(err));
            xml_error(at, problem, HINT_AGAIN)
        })?;
        Ok(Self {
            element,
            at,
            decoder,
            attrs,
        })
    }

    pub(super) fn error(&self, problem: String, hint: &'static str) -> StatementError {
        xml_error(self.at, format!("<{}> {problem}", self.element), hint)
    }

    /// The attribute's value, unescaped; empty counts as absent.
    pub(super) fn opt(&self, name: &str) -> Result<Option<Cow<'a, str>>, StatementError> {
        let Some(attr) = self.attrs.iter().find(|a| a.key.0 == name.as_bytes()) else {
            return Ok(None);
        };
        let value = attr
            .decoded_and_normalized_value(XmlVersion::Implicit1_0, self.decoder)
            .map_err(|err| {
                self.error(format!("attribute {name:?}: {}", one_line(err)), HINT_AGAIN)
            })?;
        Ok(Some(value).filter(|v| !v.is_empty()))
    }

    fn missing(&self, name: &str) -> StatementError {
        let problem = format!("has no attribute {name:?} (or it is empty)");
        self.error(problem, HINT_FIELD)
    }

    fn req(&self, name: &str) -> Result<Cow<'a, str>, StatementError> {
        self.opt(name)?.ok_or_else(|| self.missing(name))
    }

    fn owned(&self, name: &str) -> Result<String, StatementError> {
        self.req(name).map(Cow::into_owned)
    }

    fn opt_owned(&self, name: &str) -> Result<Option<String>, StatementError> {
        Ok(self.opt(name)?.map(Cow::into_owned))
    }

    fn convert<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
        hint: &'static str,
    ) -> Result<Option<T>, StatementError> {
        let Some(value) = self.opt(name)? else {
            return Ok(None);
        };
        parse(&value).map(Some).ok_or_else(|| {
            self.error(
                format!("attribute {name:?} is {}, not {expected}", quote(&value)),
                hint,
            )
        })
    }

    fn opt_decimal(&self, name: &str) -> Result<Option<BigDecimal>, StatementError> {
        self.convert(name, text::decimal, "a decimal", HINT_AGAIN)
    }

    fn decimal(&self, name: &str) -> Result<BigDecimal, StatementError> {
        self.opt_decimal(name)?.ok_or_else(|| self.missing(name))
    }

    fn opt_date(&self, name: &str) -> Result<Option<NaiveDate>, StatementError> {
        self.convert(
            name,
            text::date_ymd,
            "a date (yyyyMMdd or yyyy-MM-dd)",
            HINT_DATE,
        )
    }

    fn date(&self, name: &str) -> Result<NaiveDate, StatementError> {
        self.opt_date(name)?.ok_or_else(|| self.missing(name))
    }

    fn opt_date_time(&self, name: &str) -> Result<Option<NaiveDateTime>, StatementError> {
        let parse = |v: &str| text::date_time(v, &[';', ',', ' '], text::date_ymd);
        self.convert(name, parse, "a date-time (yyyyMMdd;HHmmss)", HINT_DATE)
    }

    /// The row's `accountId`, else its statement's.
    fn account(&self, header: Option<&IbkrStatementHeader>) -> Result<String, StatementError> {
        match (self.opt("accountId")?, header) {
            (Some(id), _) => Ok(id.into_owned()),
            (None, Some(header)) => Ok(header.account_id.clone()),
            (None, None) => Err(self.missing("accountId")),
        }
    }
}

pub(super) fn statement_header(
    attrs: &Attrs<'_>,
    query_name: Option<String>,
) -> Result<IbkrStatementHeader, StatementError> {
    Ok(IbkrStatementHeader {
        account_id: attrs.owned("accountId")?,
        from_date: attrs.date("fromDate")?,
        to_date: attrs.date("toDate")?,
        period: attrs.opt_owned("period")?,
        when_generated: attrs.opt_date_time("whenGenerated")?,
        query_name,
    })
}

pub(super) fn position(
    attrs: &Attrs<'_>,
    header: Option<&IbkrStatementHeader>,
) -> Result<Option<IbkrPosition>, StatementError> {
    if attrs
        .opt("levelOfDetail")?
        .is_some_and(|level| level.eq_ignore_ascii_case("LOT"))
    {
        return Ok(None);
    }
    Ok(Some(IbkrPosition {
        account_id: attrs.account(header)?,
        currency: attrs.owned("currency")?,
        asset_category: attrs.owned("assetCategory")?,
        symbol: attrs.owned("symbol")?,
        description: attrs.opt_owned("description")?,
        conid: attrs.owned("conid")?,
        position: attrs.decimal("position")?,
        mark_price: attrs.decimal("markPrice")?,
        position_value: attrs.decimal("positionValue")?,
        cost_basis_price: attrs.opt_decimal("costBasisPrice")?,
        report_date: attrs.date("reportDate")?,
        fx_rate_to_base: attrs.opt_decimal("fxRateToBase")?,
    }))
}

pub(super) fn cash(
    attrs: &Attrs<'_>,
    header: Option<&IbkrStatementHeader>,
) -> Result<Option<IbkrCash>, StatementError> {
    let currency = attrs.owned("currency")?;
    if currency == "BASE_SUMMARY" {
        return Ok(None);
    }
    let from_date = attrs.opt_date("fromDate")?.or(header.map(|h| h.from_date));
    let to_date = attrs.opt_date("toDate")?.or(header.map(|h| h.to_date));
    Ok(Some(IbkrCash {
        account_id: attrs.account(header)?,
        currency,
        starting_cash: attrs.opt_decimal("startingCash")?,
        ending_cash: attrs.decimal("endingCash")?,
        ending_settled_cash: attrs.opt_decimal("endingSettledCash")?,
        from_date: from_date.ok_or_else(|| attrs.missing("fromDate"))?,
        to_date: to_date.ok_or_else(|| attrs.missing("toDate"))?,
    }))
}

pub(super) fn trade(
    attrs: &Attrs<'_>,
    header: Option<&IbkrStatementHeader>,
) -> Result<IbkrTrade, StatementError> {
    let trade_id = attrs.opt_owned("tradeID")?;
    let transaction_id = attrs.opt_owned("transactionID")?;
    if trade_id.is_none() && transaction_id.is_none() {
        let problem = "has neither \"tradeID\" nor \"transactionID\"".to_owned();
        return Err(attrs.error(problem, HINT_FIELD));
    }
    Ok(IbkrTrade {
        account_id: attrs.account(header)?,
        currency: attrs.owned("currency")?,
        asset_category: attrs.owned("assetCategory")?,
        symbol: attrs.owned("symbol")?,
        description: attrs.opt_owned("description")?,
        conid: attrs.owned("conid")?,
        trade_id,
        transaction_id,
        trade_date: attrs.date("tradeDate")?,
        date_time: attrs.opt_date_time("dateTime")?,
        settle_date: attrs.opt_date("settleDateTarget")?,
        quantity: attrs.decimal("quantity")?,
        trade_price: attrs.decimal("tradePrice")?,
        proceeds: attrs.decimal("proceeds")?,
        ib_commission: attrs.decimal("ibCommission")?,
        ib_commission_currency: attrs.opt_owned("ibCommissionCurrency")?,
        net_cash: attrs.opt_decimal("netCash")?,
        buy_sell: attrs.owned("buySell")?,
        fx_rate_to_base: attrs.opt_decimal("fxRateToBase")?,
    })
}
