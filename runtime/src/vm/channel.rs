//! A byte stream from the host into the guest: a Unix socket on the host,
//! which QEMU connects to a virtio-serial port that the guest's `/init`
//! links to [`CHANNEL_DEVICE`]. `schedc run --vm --watch` hands new
//! objects to the guest through it.

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use super::VmError;

/// Where the commands in the guest read what the host writes.
pub const CHANNEL_DEVICE: &str = "/dev/schedc-channel";

/// The host's end, listening until QEMU connects.
#[derive(Debug)]
pub struct HostChannel {
    dir: tempfile::TempDir,
    listener: UnixListener,
}

impl HostChannel {
    pub fn new() -> Result<HostChannel, VmError> {
        let dir = tempfile::Builder::new()
            .prefix("schedc-channel-")
            .tempdir()
            .map_err(|source| VmError::Host { what: "create a temporary directory", source })?;
        let listener = UnixListener::bind(dir.path().join("socket"))
            .map_err(|source| VmError::Host { what: "listen on a Unix socket for the guest", source })?;
        listener.set_nonblocking(true).map_err(|source| VmError::Host { what: "set up the guest's socket", source })?;
        Ok(HostChannel { dir, listener })
    }

    pub(super) fn socket(&self) -> PathBuf {
        self.dir.path().join("socket")
    }

    /// The stream to the guest, once QEMU (started by [`super::Guest::boot`]
    /// elsewhere) has connected; `None` if `booting` turns false first.
    pub fn connect(&self, booting: impl Fn() -> bool) -> Result<Option<UnixStream>, VmError> {
        let set_up = |source| VmError::Host { what: "accept QEMU's connection", source };
        while booting() {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).map_err(set_up)?;
                    return Ok(Some(stream));
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(err) => return Err(set_up(err)),
            }
        }
        Ok(None)
    }
}
