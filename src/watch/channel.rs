//! What `schedc run --vm --watch` on the host says to `schedc run
//! --swap-from` in the guest, over the VM's channel: a new object to swap
//! in, with the `--set` values for it, or stop.
//!
//! ```text
//! swap OBJECT_BYTES SETTINGS\n  NAME=VALUE\n (SETTINGS times)  OBJECT
//! stop\n
//! ```

use std::io::{self, BufRead, Write};

/// One message from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Swap { object: Vec<u8>, overrides: Vec<(String, String)> },
    Stop,
}

impl Message {
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Message::Swap { object, overrides } => {
                writeln!(out, "swap {} {}", object.len(), overrides.len())?;
                for (name, value) in overrides {
                    writeln!(out, "{name}={value}")?;
                }
                out.write_all(object)?;
            }
            Message::Stop => writeln!(out, "stop")?,
        }
        out.flush()
    }

    /// The next message, or `None` at the end of the stream.
    pub fn read_from(input: &mut impl BufRead) -> io::Result<Option<Message>> {
        let Some(head) = line(input)? else { return Ok(None) };
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("not a message: {head:?}"));
        let words: Vec<&str> = head.split(' ').collect();
        match words.as_slice() {
            ["stop"] => Ok(Some(Message::Stop)),
            ["swap", len, count] => {
                let (len, count): (usize, usize) = (len.parse().map_err(|_| bad())?, count.parse().map_err(|_| bad())?);
                let mut overrides = Vec::with_capacity(count);
                for _ in 0..count {
                    let setting = line(input)?.ok_or_else(bad)?;
                    let (name, value) = setting.split_once('=').ok_or_else(bad)?;
                    overrides.push((name.to_string(), value.to_string()));
                }
                let mut object = vec![0; len];
                input.read_exact(&mut object)?;
                Ok(Some(Message::Swap { object, overrides }))
            }
            _ => Err(bad()),
        }
    }
}

/// A line without its newline; `None` at the end of the stream.
fn line(input: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut text = String::new();
    if input.read_line(&mut text)? == 0 {
        return Ok(None);
    }
    Ok(Some(text.trim_end_matches('\n').to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        let messages = [
            Message::Swap {
                object: b"\x7fELF\nswap 1 1\n\0binary".to_vec(),
                overrides: vec![("slice_max".into(), "2ms".into()), ("x".into(), "a=b".into())],
            },
            Message::Swap { object: Vec::new(), overrides: Vec::new() },
            Message::Stop,
        ];
        let mut stream = Vec::new();
        for m in &messages {
            m.write_to(&mut stream).unwrap();
        }
        let mut input = &stream[..];
        for m in &messages {
            assert_eq!(Message::read_from(&mut input).unwrap().as_ref(), Some(m));
        }
        assert_eq!(Message::read_from(&mut input).unwrap(), None);
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in ["hello\n", "swap x 1\n", "swap 3 1\n", "swap 3 1\nno-equals\n"] {
            assert!(Message::read_from(&mut bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
