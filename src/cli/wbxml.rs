//! `eastest wbxml decode|encode|dump`: the codec on files or stdin/stdout.

use std::fs;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use eastest::wbxml::{
    self, DecodeOptions, DecodeToWriterError, EncodeOptions, Mode, ProtocolVersion,
};

use super::CliError;

#[derive(Debug, Subcommand)]
pub enum WbxmlCommand {
    /// Decode WBXML into EAS XML (one namespace per code page).
    ///
    /// Reads FILE, or stdin when FILE is absent or `-`. Exit code 1 when the
    /// input is not valid WBXML for the protocol version; the message names
    /// the byte offset, code page and token.
    Decode {
        /// The WBXML file (stdin when absent or `-`).
        file: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// No indentation: the XML on one line.
        #[arg(long)]
        compact: bool,
        /// The input is hexadecimal text (as `encode --hex` writes it, or
        /// pasted from a capture); whitespace between bytes is ignored.
        #[arg(long)]
        hex: bool,
    },
    /// Encode EAS XML into WBXML.
    ///
    /// Reads FILE, or stdin when FILE is absent or `-`. Refuses to write
    /// binary to a terminal: redirect stdout, use --output, or --hex.
    Encode {
        /// The XML file (stdin when absent or `-`).
        file: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// Write the bytes as hexadecimal text instead of binary.
        #[arg(long)]
        hex: bool,
    },
    /// List the tokens of a WBXML document, one line each: byte offset, raw
    /// bytes and meaning (for protocol debugging).
    ///
    /// Reads FILE, or stdin when FILE is absent or `-`. Lenient: unknown
    /// tokens are shown, and tags not in the protocol version are marked. On a
    /// broken document, lists the tokens before the problem, ends with an
    /// `error:` line, and exits with code 1.
    Dump {
        /// The WBXML file (stdin when absent or `-`).
        file: Option<PathBuf>,
        /// Protocol version whose tags are valid (2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1).
        #[arg(long, short = 'p', value_name = "VERSION", default_value = "16.1")]
        protocol: ProtocolVersion,
        /// The input is hexadecimal text; whitespace between bytes is ignored.
        #[arg(long)]
        hex: bool,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// Protocol version whose tags are valid (2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1).
    #[arg(long, short = 'p', value_name = "VERSION", default_value = "16.1")]
    protocol: ProtocolVersion,
    /// Reject unknown tokens and tags not in the protocol version (the default).
    #[arg(long, conflicts_with = "lenient")]
    strict: bool,
    /// Keep unknown tokens (as <wbxml:unknown page=".." token="..">) and
    /// out-of-version tags instead of failing: for recording a faulty peer.
    #[arg(long)]
    lenient: bool,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

impl Common {
    fn mode(&self) -> Mode {
        if self.lenient {
            Mode::Lenient
        } else {
            Mode::Strict
        }
    }
}

pub fn run(cmd: WbxmlCommand) -> Result<(), CliError> {
    match cmd {
        WbxmlCommand::Decode {
            file,
            common,
            compact,
            hex,
        } => {
            let (name, mut input) = read_input(file.as_ref())?;
            if hex {
                input = parse_hex(&input).map_err(|e| CliError::invalid(format!("{name}: {e}")))?;
            }
            let options = DecodeOptions {
                version: common.protocol,
                mode: common.mode(),
                indent: !compact,
                ..DecodeOptions::default()
            };
            // Streamed out in chunks: a large document is never held twice.
            let report = |e: DecodeToWriterError| match e {
                DecodeToWriterError::Decode(e) => CliError::invalid(format!("{name}: {e}")),
                DecodeToWriterError::Io(e) => CliError::usage(format!("cannot write the XML: {e}")),
            };
            match common.output.as_ref() {
                // Written to a temporary file first, so an invalid document
                // never leaves a partial FILE behind.
                Some(path) => {
                    let tmp = temporary_beside(path);
                    let result = fs::File::create(&tmp)
                        .map_err(|e| {
                            CliError::usage(format!("cannot write {}: {e}", tmp.display()))
                        })
                        .and_then(|mut f| {
                            wbxml::decode_to_writer(&input, &options, &mut f).map_err(report)
                        });
                    match result.and_then(|()| {
                        fs::rename(&tmp, path).map_err(|e| {
                            CliError::usage(format!("cannot write {}: {e}", path.display()))
                        })
                    }) {
                        Ok(()) => Ok(()),
                        Err(e) => {
                            let _ = fs::remove_file(&tmp);
                            Err(e)
                        }
                    }
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    wbxml::decode_to_writer(&input, &options, &mut out)
                        .map_err(report)
                        .and_then(|()| {
                            out.flush()
                                .map_err(|e| CliError::usage(format!("cannot write stdout: {e}")))
                        })
                }
            }
        }
        WbxmlCommand::Dump {
            file,
            protocol,
            hex,
        } => {
            let (name, mut input) = read_input(file.as_ref())?;
            if hex {
                input = parse_hex(&input).map_err(|e| CliError::invalid(format!("{name}: {e}")))?;
            }
            let (listing, error) = wbxml::dump(&input, protocol);
            write_output(None, listing.as_bytes())?;
            match error {
                Some(e) => Err(CliError::invalid(format!("{name}: {e}"))),
                None => Ok(()),
            }
        }
        WbxmlCommand::Encode { file, common, hex } => {
            let (name, input) = read_input(file.as_ref())?;
            let xml = std::str::from_utf8(&input).map_err(|e| {
                CliError::invalid(format!(
                    "{name}: the XML is not UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ))
            })?;
            let options = EncodeOptions {
                version: common.protocol,
                mode: common.mode(),
                ..EncodeOptions::default()
            };
            let bytes = wbxml::encode(xml, &options)
                .map_err(|e| CliError::invalid(format!("{name}:{e}")))?;
            if hex {
                let mut text = String::with_capacity(bytes.len() * 3);
                for (i, b) in bytes.iter().enumerate() {
                    let sep = if i == 0 {
                        ""
                    } else if i % 16 == 0 {
                        "\n"
                    } else {
                        " "
                    };
                    text.push_str(sep);
                    text.push_str(&format!("{b:02X}"));
                }
                text.push('\n');
                return write_output(common.output.as_ref(), text.as_bytes());
            }
            if common.output.is_none() && std::io::stdout().is_terminal() {
                return Err(CliError::usage(
                    "refusing to write binary WBXML to a terminal: redirect stdout, or use --output FILE or --hex",
                ));
            }
            write_output(common.output.as_ref(), &bytes)
        }
    }
}

/// A temporary name in the same directory as `path`, so the final rename
/// stays on one file system.
fn temporary_beside(path: &std::path::Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.eastest-{}.tmp", std::process::id()))
}

/// Hexadecimal text to bytes; whitespace (and an optional `0x` per byte) is ignored.
fn parse_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "the hex input is not text".to_string())?;
    let digits: String = text
        .split_whitespace()
        .map(|w| {
            w.strip_prefix("0x")
                .or_else(|| w.strip_prefix("0X"))
                .unwrap_or(w)
        })
        .collect();
    if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "`{c}` at hex digit {} is not a hexadecimal digit",
            i + 1
        ));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "odd number of hex digits ({}): the last byte is incomplete",
            digits.len()
        ));
    }
    Ok((0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("checked hex digits"))
        .collect())
}

fn read_input(file: Option<&PathBuf>) -> Result<(String, Vec<u8>), CliError> {
    match file {
        Some(path) if path.as_os_str() != "-" => {
            let name = path.display().to_string();
            let data =
                fs::read(path).map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?;
            Ok((name, data))
        }
        _ => {
            let mut data = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut data)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
            Ok(("<stdin>".to_string(), data))
        }
    }
}

fn write_output(path: Option<&PathBuf>, data: &[u8]) -> Result<(), CliError> {
    match path {
        Some(path) => fs::write(path, data)
            .map_err(|e| CliError::usage(format!("cannot write {}: {e}", path.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(data)
                .and_then(|()| out.flush())
                .map_err(|e| CliError::usage(format!("cannot write stdout: {e}")))
        }
    }
}
