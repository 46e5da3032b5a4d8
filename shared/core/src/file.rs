//! Reading a small file the user names (a secret, a CA bundle, a config)
//! without trusting its size: `--password-file /dev/zero` or a FIFO that
//! never ends must fail with a message, not read until memory runs out.

use std::io::Read as _;
use std::path::Path;

/// The whole of `path` when it holds at most `limit` bytes; an
/// [`std::io::ErrorKind::FileTooLarge`] error naming the limit otherwise.
/// Only `limit + 1` bytes are ever read, whatever the file is.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("it is larger than {limit} bytes, more than such a file holds"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_files_stop_at_the_limit() {
        let err = read_bounded(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("larger than 1024 bytes"), "{err}");
        let dir = std::env::temp_dir().join(format!("nightwatch-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exact = dir.join("exact");
        std::fs::write(&exact, [b'x'; 16]).unwrap();
        assert_eq!(read_bounded(&exact, 16).unwrap().len(), 16);
        assert!(read_bounded(&exact, 15).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
