//! The streaming part: quick-xml events to records, tracking where in the
//! document the reader is.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Decoder, Reader};

use super::rows::{cash, position, statement_header, trade, Attrs};
use super::{IbkrRecord, IbkrStatementHeader, FORMAT, HINT_AGAIN, HINT_FOREIGN};
use crate::error::{one_line, quote, StatementError};

/// Streams the records of a Flex XML file one by one, in document order.
///
/// Yields `Err` once, at the first problem, and then ends; a caller importing
/// records as they come should therefore do so inside one transaction and
/// roll it back on `Err`, so a bad file is never half imported.
pub struct IbkrReader<R: BufRead> {
    xml: Reader<LineCounter<R>>,
    buf: Vec<u8>,
    state: State,
    done: bool,
}

impl<R: BufRead> IbkrReader<R> {
    /// Reads from `reader`; nothing is read until the first `next()`.
    pub fn new(reader: R) -> Self {
        let mut xml = Reader::from_reader(LineCounter {
            inner: reader,
            newlines: 0,
        });
        // Whitespace between elements is layout; with it trimmed, any text
        // left outside the root means the input is not a Flex file.
        xml.config_mut().trim_text(true);
        Self {
            xml,
            buf: Vec::with_capacity(8 * 1024),
            state: State::default(),
            done: false,
        }
    }

    fn advance(&mut self) -> Result<Option<IbkrRecord>, StatementError> {
        loop {
            // Text is reported where it starts, markup where it ends (the
            // same line for IBKR's one-line elements).
            let before = At {
                line: self.xml.get_ref().newlines + 1,
                byte: self.xml.buffer_position(),
            };
            self.buf.clear();
            let event = self.xml.read_event_into(&mut self.buf);
            let at = At {
                line: self.xml.get_ref().newlines + 1,
                byte: self.xml.buffer_position(),
            };
            let event = event.map_err(|err| {
                let byte = self.xml.error_position();
                xml_error(
                    At { byte, ..at },
                    format!("malformed XML: {}", one_line(err)),
                    HINT_AGAIN,
                )
            })?;
            let decoder = self.xml.decoder();
            match event {
                Event::Start(element) => {
                    let record = self.state.open(&element, at, decoder)?;
                    self.state.stack.push(element.name().0.to_vec());
                    if record.is_some() {
                        return Ok(record);
                    }
                }
                Event::Empty(element) => {
                    let record = self.state.open(&element, at, decoder)?;
                    // An empty root element is a whole (empty) document.
                    self.state.root_closed |= self.state.stack.is_empty();
                    if record.is_some() {
                        return Ok(record);
                    }
                }
                Event::End(_) => {
                    self.state.stack.pop();
                    self.state.root_closed = self.state.stack.is_empty();
                }
                Event::Text(text) if !text.iter().all(u8::is_ascii_whitespace) => {
                    self.state.text_outside_root(&text, before)?;
                }
                Event::CData(text) => self.state.text_outside_root(&text, before)?,
                Event::GeneralRef(text) => self.state.text_outside_root(&text, before)?,
                Event::Eof => return self.state.finish(at).map(|()| None),
                _ => {}
            }
        }
    }
}

impl<R: BufRead> Iterator for IbkrReader<R> {
    type Item = Result<IbkrRecord, StatementError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.advance().transpose();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

impl<R: BufRead> std::iter::FusedIterator for IbkrReader<R> {}

/// Where in the file something was found.
#[derive(Debug, Clone, Copy)]
pub(super) struct At {
    pub(super) line: u64,
    pub(super) byte: u64,
}

pub(super) fn xml_error(at: At, problem: String, hint: &'static str) -> StatementError {
    StatementError::Xml {
        format: FORMAT,
        line: at.line,
        byte: at.byte,
        problem,
        hint,
    }
}

/// Counts the newlines quick-xml consumes so errors can name a line.
struct LineCounter<R> {
    inner: R,
    newlines: u64,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // `consume` follows a `fill_buf` whose bytes are still buffered, so
        // this second `fill_buf` returns them again without reading.
        if let Ok(buffered) = self.inner.fill_buf() {
            let seen = &buffered[..amount.min(buffered.len())];
            self.newlines += memchr::memchr_iter(b'\n', seen).count() as u64;
        }
        self.inner.consume(amount);
    }
}

/// What the reader knows about where it is in the document.
#[derive(Default)]
struct State {
    /// Names of the open elements, root first.
    stack: Vec<Vec<u8>>,
    header: Option<IbkrStatementHeader>,
    query_name: Option<String>,
    root_closed: bool,
}

impl State {
    fn open(
        &mut self,
        element: &BytesStart<'_>,
        at: At,
        decoder: Decoder,
    ) -> Result<Option<IbkrRecord>, StatementError> {
        let parent = self.stack.last().map(Vec::as_slice);
        let header = self.header.as_ref();
        let record = match (self.stack.len(), parent, element.name().0) {
            (0, _, name) => {
                self.open_root(name, element, at, decoder)?;
                None
            }
            (2, Some(b"FlexStatements"), b"FlexStatement") => {
                let attrs = Attrs::read(element, "FlexStatement", at, decoder)?;
                let header = statement_header(&attrs, self.query_name.clone())?;
                self.header = Some(header.clone());
                Some(IbkrRecord::Statement(header))
            }
            (4, Some(b"OpenPositions"), b"OpenPosition") => {
                let attrs = Attrs::read(element, "OpenPosition", at, decoder)?;
                position(&attrs, header)?.map(IbkrRecord::Position)
            }
            (4, Some(b"CashReport"), b"CashReportCurrency") => {
                let attrs = Attrs::read(element, "CashReportCurrency", at, decoder)?;
                cash(&attrs, header)?.map(IbkrRecord::Cash)
            }
            (4, Some(b"Trades"), b"Trade") => {
                let attrs = Attrs::read(element, "Trade", at, decoder)?;
                Some(IbkrRecord::Trade(trade(&attrs, header)?))
            }
            _ => None,
        };
        Ok(record)
    }

    fn open_root(
        &mut self,
        name: &[u8],
        element: &BytesStart<'_>,
        at: At,
        decoder: Decoder,
    ) -> Result<(), StatementError> {
        let shown = String::from_utf8_lossy(name);
        if self.root_closed {
            let problem = format!("a second root element <{shown}> follows </FlexQueryResponse>");
            return Err(xml_error(at, problem, HINT_AGAIN));
        }
        match name {
            b"FlexQueryResponse" => {
                let attrs = Attrs::read(element, "FlexQueryResponse", at, decoder)?;
                self.query_name = attrs.opt("queryName")?.map(Cow::into_owned);
                Ok(())
            }
            b"FlexStatementResponse" => Err(xml_error(
                at,
                "this is a Flex Web Service status reply (<FlexStatementResponse>), not a statement"
                    .to_owned(),
                "fetch the statement again once IBKR reports it ready",
            )),
            _ => Err(xml_error(
                at,
                format!("the root element is <{shown}>, not <FlexQueryResponse>: not a Flex statement"),
                HINT_FOREIGN,
            )),
        }
    }

    fn text_outside_root(&self, text: &[u8], at: At) -> Result<(), StatementError> {
        if !self.stack.is_empty() {
            return Ok(());
        }
        let shown = quote(&String::from_utf8_lossy(text));
        let problem = format!("text {shown} outside any element: this is not an XML file");
        Err(xml_error(at, problem, HINT_FOREIGN))
    }

    fn finish(&self, at: At) -> Result<(), StatementError> {
        if let Some(open) = self.stack.last() {
            let open = String::from_utf8_lossy(open);
            let problem = format!("the file ends inside <{open}>: it is truncated");
            return Err(xml_error(at, problem, HINT_AGAIN));
        }
        if !self.root_closed {
            let problem = "the file holds no XML element (it is empty)".to_owned();
            return Err(xml_error(at, problem, HINT_FOREIGN));
        }
        Ok(())
    }
}
