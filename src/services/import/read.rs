//! Reading a spreadsheet as rows of text: CSV in UTF-8 (with or without a byte-order mark) or
//! CP949/EUC-KR (what Korean Excel saves), streamed; or an XLSX workbook's sheet. Nothing here
//! knows what the columns mean.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::PathBuf;
use std::sync::Arc;

use calamine::{Data, Reader as _};
use sha2::{Digest, Sha256};

/// The text encodings a CSV may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Utf8,
    /// Windows code page 949 (a superset of EUC-KR).
    Cp949,
}

impl Encoding {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "utf8" => Ok(Self::Utf8),
            "cp949" | "euckr" | "windows949" | "uhc" => Ok(Self::Cp949),
            _ => Err(format!("unknown encoding {raw:?}: use utf-8 or cp949")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Cp949 => "cp949",
        }
    }

    fn codec(self) -> &'static encoding_rs::Encoding {
        match self {
            Self::Utf8 => encoding_rs::UTF_8,
            Self::Cp949 => encoding_rs::EUC_KR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("the workbook cannot be read: {0}")]
    Workbook(String),
    #[error("the workbook has no sheet named {0:?}")]
    NoSuchSheet(String),
    #[error("the file has no header row")]
    Empty,
}

/// One data row: its line in the file (the header is line 1) and its cells.
pub type Row = (u64, Vec<String>);

/// A file opened for reading: its headers, and its rows one at a time.
pub struct Table {
    pub headers: Vec<String>,
    /// `utf-8` or `cp949` for a CSV, `xlsx` for a workbook.
    pub read_as: &'static str,
    /// Numbers in date columns are Excel serial dates (a workbook).
    pub serial_dates: bool,
    pub rows: Box<dyn Iterator<Item = Result<Row, ReadError>> + Send>,
}

/// Where the rows come from: a file on disk (the command), or an upload held in memory (the
/// API and the console: an upload is never written to disk in the clear).
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Upload { name: String, bytes: Arc<[u8]>, xlsx: bool },
}

impl Source {
    /// The file's name as recorded with the import.
    pub fn name(&self) -> String {
        match self {
            Self::File(path) => path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            Self::Upload { name, .. } => name.clone(),
        }
    }

    fn reader(&self) -> Result<Box<dyn Read + Send>, ReadError> {
        match self {
            Self::File(path) => Ok(Box::new(File::open(path).map_err(|e| self.io(e))?)),
            Self::Upload { bytes, .. } => Ok(Box::new(Cursor::new(bytes.clone()))),
        }
    }

    fn io(&self, e: std::io::Error) -> ReadError {
        ReadError::Io(self.name(), e)
    }

    /// Named or declared as a workbook.
    fn says_xlsx(&self) -> bool {
        match self {
            Self::File(path) => {
                path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm"))
            }
            Self::Upload { xlsx, .. } => *xlsx,
        }
    }
}

/// The file's SHA-256 in hex, and its number of line breaks (read once, in full, before
/// anything is imported).
pub fn sha256_of(source: &Source) -> Result<(String, u64), ReadError> {
    let mut file = source.reader()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut lines = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| source.io(e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        lines += buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    Ok((hex::encode(hasher.finalize()), lines))
}

/// Opens `source`: a workbook if it is named or declared one (or starts like one), else a CSV
/// in `encoding` (detected when `None`).
pub fn open(source: &Source, encoding: Option<Encoding>, sheet: Option<&str>) -> Result<Table, ReadError> {
    let mut start = [0u8; 4];
    let read = source.reader()?.read(&mut start).map_err(|e| source.io(e))?;
    if source.says_xlsx() || (read == 4 && start == *b"PK\x03\x04") {
        return open_xlsx(source, sheet);
    }
    let encoding = match encoding {
        Some(e) => e,
        None => detect(source)?,
    };
    open_csv(source, encoding)
}

/// UTF-8 when the first 64 KiB are UTF-8 (a byte-order mark, or plain ASCII, included), else CP949.
pub fn detect(source: &Source) -> Result<Encoding, ReadError> {
    let mut head = Vec::with_capacity(1 << 16);
    source.reader()?.take(1 << 16).read_to_end(&mut head).map_err(|e| source.io(e))?;
    Ok(match std::str::from_utf8(&head) {
        Ok(_) => Encoding::Utf8,
        // Cut in the middle of a character at the 64 KiB mark: still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Cp949,
    })
}

fn open_csv(source: &Source, encoding: Encoding) -> Result<Table, ReadError> {
    let file = source.reader()?;
    // The decoder strips a byte-order mark and turns the text into UTF-8 as it streams.
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding.codec()))
        .bom_sniffing(true)
        .build(BufReader::with_capacity(1 << 16, file));
    // Line ends as LF: the csv crate counts lines wrongly after CRLF (BurntSushi/rust-csv#395),
    // and Excel writes CRLF.
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(LfLines::new(decoded));
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(0, csv::Position::line);
        ReadError::Csv { line, message: e.to_string() }
    };
    let headers: Vec<String> = reader.headers().map_err(csv_error)?.iter().map(str::to_owned).collect();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(ReadError::Empty);
    }
    let rows = reader.into_records().filter_map(move |record| match record {
        Ok(r) if r.iter().all(|c| c.trim().is_empty()) => None,
        Ok(r) => Some(Ok((r.position().map_or(0, csv::Position::line), r.iter().map(str::to_owned).collect()))),
        Err(e) => Some(Err(csv_error(e))),
    });
    Ok(Table { headers, read_as: encoding.as_str(), serial_dates: false, rows: Box::new(rows) })
}

fn open_xlsx(source: &Source, sheet: Option<&str>) -> Result<Table, ReadError> {
    let workbook = |e: calamine::XlsxError| ReadError::Workbook(e.to_string());
    match source {
        Source::File(path) => rows_of(calamine::open_workbook(path).map_err(workbook)?, sheet),
        Source::Upload { bytes, .. } => {
            rows_of(calamine::Xlsx::new(Cursor::new(bytes.clone())).map_err(workbook)?, sheet)
        }
    }
}

fn rows_of<R: Read + std::io::Seek>(mut book: calamine::Xlsx<R>, sheet: Option<&str>) -> Result<Table, ReadError> {
    let name = match sheet {
        Some(name) => name.to_owned(),
        None => book.sheet_names().first().cloned().ok_or(ReadError::Empty)?,
    };
    if !book.sheet_names().contains(&name) {
        return Err(ReadError::NoSuchSheet(name));
    }
    let range = book.worksheet_range(&name).map_err(|e| ReadError::Workbook(e.to_string()))?;
    let first_row = u64::from(range.start().map_or(0, |(row, _)| row));
    let mut rows = range.rows().map(|cells| cells.iter().map(cell_text).collect::<Vec<String>>());
    let headers = rows.next().ok_or(ReadError::Empty)?;
    let data: Vec<Row> = rows
        .enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, cells)| (first_row + i as u64 + 2, cells))
        .collect();
    Ok(Table { headers, read_as: "xlsx", serial_dates: true, rows: Box::new(data.into_iter().map(Ok)) })
}

/// A cell as the text a person would see; a date cell as a local `YYYY-MM-DD HH:MM:SS`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.as_f64().to_string(),
        },
    }
}

/// A reader that turns each CRLF into LF (a lone CR is kept).
struct LfLines<R> {
    inner: R,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    /// The last byte read was a CR, not yet passed on.
    held_cr: bool,
}

impl<R: Read> LfLines<R> {
    fn new(inner: R) -> Self {
        Self { inner, buffer: vec![0; 1 << 16], start: 0, end: 0, held_cr: false }
    }
}

impl<R: Read> Read for LfLines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        // Zero means the end: a read that only held back a CR reads on.
        loop {
            let n = self.read_some(out)?;
            if n > 0 || (self.end == 0 && !self.held_cr) {
                return Ok(n);
            }
        }
    }
}

impl<R: Read> LfLines<R> {
    fn read_some(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = self.inner.read(&mut self.buffer)?;
            if self.end == 0 {
                // The end: a CR held back is passed on.
                if std::mem::take(&mut self.held_cr) {
                    out[0] = b'\r';
                    return Ok(1);
                }
                return Ok(0);
            }
        }
        let mut written = 0;
        if self.held_cr {
            self.held_cr = false;
            if self.buffer[self.start] != b'\n' {
                out[0] = b'\r';
                written = 1;
            }
        }
        while self.start < self.end && written < out.len() {
            let byte = self.buffer[self.start];
            self.start += 1;
            if byte == b'\r' {
                match self.buffer[self.start..self.end].first() {
                    Some(b'\n') => continue,
                    Some(_) => {}
                    None => {
                        self.held_cr = true;
                        break;
                    }
                }
            }
            out[written] = byte;
            written += 1;
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(input: &[u8], chunk: usize) -> Vec<u8> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(out.len()).min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        LfLines::new(Trickle(input, chunk)).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn crlf_becomes_lf_wherever_the_reads_split_it() {
        for chunk in [1, 2, 3, 64] {
            assert_eq!(through(b"a,b\r\nc,d\r\n", chunk), b"a,b\nc,d\n", "{chunk}");
            assert_eq!(through(b"a\rb\r", chunk), b"a\rb\r", "a lone CR stays ({chunk})");
            assert_eq!(through(b"\r\r\n", chunk), b"\r\n");
        }
    }
}
