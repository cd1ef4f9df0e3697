//! Backups that are safe to keep off-site: the snapshot encrypted with age (X25519 recipients,
//! <https://age-encryption.org/v1>) while it is written, so no plaintext copy ever reaches the
//! disk; the manifest stays readable (counts, hashes, versions: no row data). The files are
//! standard age files: `age -d -i key.txt snapshot.db.age > snapshot.db` opens one by hand.
//!
//! The recipients (public keys, `age1...`) may sit on the server; the identity (the secret
//! key, `AGE-SECRET-KEY-1...`) is needed only to verify or restore, and stays off it.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use crate::manifest::{Encryption, Manifest};
use crate::{store, BackupError};

/// The `scheme` manifests record for age X25519 encryption.
pub const SCHEME: &str = "age-x25519";
/// Added to the snapshot's file name when it is encrypted.
pub const SUFFIX: &str = ".age";

/// Public keys new backups are encrypted to (any one of their identities opens them).
#[derive(Clone)]
pub struct Recipients(Vec<age::x25519::Recipient>);

impl Recipients {
    /// Parses `age1...` keys separated by commas or white space.
    pub fn parse(list: &str) -> Result<Self, BackupError> {
        let keys: Vec<&str> = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .collect();
        if keys.is_empty() {
            return Err(BackupError::Refused(
                "no recipient given: pass an age public key (age1...), e.g. from `backup keygen`"
                    .into(),
            ));
        }
        keys.iter()
            .map(|k| {
                age::x25519::Recipient::from_str(k).map_err(|why| {
                    BackupError::Refused(format!(
                        "`{k}` is not an age X25519 recipient ({why}): give the public key `backup keygen` printed (age1...)"
                    ))
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The keys as text, as the manifest records them.
    pub fn keys(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    fn encryptor(&self) -> age::Encryptor {
        age::Encryptor::with_recipients(self.0.iter().map(|r| r as &dyn age::Recipient))
            .expect("at least one X25519 recipient, which never fails")
    }
}

/// The secret keys of an identity file (one `AGE-SECRET-KEY-1...` per line, `#` comments).
#[derive(Clone)]
pub struct Identity {
    file: PathBuf,
    keys: Arc<Vec<age::x25519::Identity>>,
}

impl Identity {
    pub fn from_file(path: &Path) -> Result<Self, BackupError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            BackupError::Refused(format!(
                "cannot read the identity file {}: {e}; pass the file `backup keygen` wrote (--identity / BACKUP_IDENTITY)",
                path.display()
            ))
        })?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // The line itself is a secret: the message names only its number.
            let key = age::x25519::Identity::from_str(line).map_err(|_| {
                BackupError::Refused(format!(
                    "line {} of {} is not an age X25519 identity (AGE-SECRET-KEY-1...): pass the file `backup keygen` wrote",
                    n + 1,
                    path.display()
                ))
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(BackupError::Refused(format!(
                "{} holds no age identity (AGE-SECRET-KEY-1...): pass the file `backup keygen` wrote",
                path.display()
            )));
        }
        Ok(Self {
            file: path.to_path_buf(),
            keys: Arc::new(keys),
        })
    }

    /// The public keys of this identity's secret keys.
    pub fn recipients(&self) -> Recipients {
        Recipients(self.keys.iter().map(|k| k.to_public()).collect())
    }
}

/// What encrypts new backups and what opens encrypted ones; either may be absent.
#[derive(Clone, Default)]
pub struct Keys {
    pub recipients: Option<Recipients>,
    pub identity: Option<Identity>,
}

impl Keys {
    /// From the front doors' `--encrypt-to` / `BACKUP_RECIPIENTS` and `--identity` /
    /// `BACKUP_IDENTITY` (empty values count as absent).
    pub fn new(recipients: Option<&str>, identity: Option<&Path>) -> Result<Self, BackupError> {
        Ok(Self {
            recipients: match recipients.map(str::trim).filter(|r| !r.is_empty()) {
                Some(list) => Some(Recipients::parse(list)?),
                None => None,
            },
            identity: match identity.filter(|p| !p.as_os_str().is_empty()) {
                Some(path) => Some(Identity::from_file(path)?),
                None => None,
            },
        })
    }

    /// From the environment only (the running service).
    pub fn from_env() -> Result<Self, BackupError> {
        let recipients = std::env::var("BACKUP_RECIPIENTS").ok();
        let identity = std::env::var_os("BACKUP_IDENTITY").map(PathBuf::from);
        Self::new(recipients.as_deref(), identity.as_deref())
    }
}

/// What the manifest records for a snapshot encrypted to `recipients`.
pub fn description(recipients: &Recipients) -> Encryption {
    Encryption {
        scheme: SCHEME.into(),
        recipients: recipients.keys(),
    }
}

/// Creates the private file `path` and lets `fill` write the plaintext into an encrypting
/// stream: only ciphertext reaches the file, which is complete and fsynced on success.
pub fn write_file(
    path: &Path,
    recipients: &Recipients,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let file = store::create_private_file(path)?;
    let io = BackupError::io("write", path);
    let mut sealed = recipients
        .encryptor()
        .wrap_output(BufWriter::with_capacity(1 << 16, file))
        .map_err(BackupError::io("write", path))?;
    fill(&mut PauseOnce {
        inner: &mut sealed,
        paused: false,
    })?;
    let file = sealed
        .finish()
        .and_then(|mut out| out.flush().map(|()| out))
        .map_err(BackupError::io("write", path))?
        .into_inner()
        .map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(BackupError::io("fsync", path))
}

/// Passes writes through; the first one is where a kill test can stop the process.
struct PauseOnce<'a> {
    inner: &'a mut dyn Write,
    paused: bool,
}

impl Write for PauseOnce<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if !self.paused {
            self.paused = true;
            crate::fault::pause(crate::fault::FaultPoint::BackupWhileEncrypting);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader of the snapshot's plaintext: the file itself, or its decryption by `keys`. A
/// read error from a decrypting reader means the ciphertext was truncated or changed.
pub fn open_snapshot(
    path: &Path,
    manifest: &Manifest,
    keys: &Keys,
) -> Result<Box<dyn Read + Send>, BackupError> {
    let file = std::fs::File::open(path).map_err(BackupError::io("read", path))?;
    let Some(encryption) = &manifest.snapshot.encryption else {
        return Ok(Box::new(file));
    };
    if encryption.scheme != SCHEME {
        return Err(BackupError::Refused(format!(
            "backup {} is encrypted with `{}`, this code opens `{SCHEME}`: restore it with the release that wrote it",
            manifest.id, encryption.scheme
        )));
    }
    let Some(identity) = &keys.identity else {
        return Err(BackupError::NeedsIdentity {
            id: manifest.id.clone(),
        });
    };
    let decryptor = age::Decryptor::new(BufReader::with_capacity(1 << 16, file)).map_err(|e| {
        BackupError::Damaged {
            id: manifest.id.clone(),
            what: format!(
                "{} is not a readable age file ({e})",
                manifest.snapshot.file
            ),
        }
    })?;
    let reader = decryptor
        .decrypt(identity.keys.iter().map(|k| k as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => BackupError::WrongKey {
                id: manifest.id.clone(),
                file: identity.file.display().to_string(),
                recipients: encryption.recipients.join(", "),
            },
            other => BackupError::Damaged {
                id: manifest.id.clone(),
                what: format!("{} does not decrypt ({other})", manifest.snapshot.file),
            },
        })?;
    Ok(Box::new(reader))
}

/// The error of a read from [`open_snapshot`]'s reader, as the refusal it is.
pub fn unreadable(manifest: &Manifest, e: std::io::Error) -> BackupError {
    BackupError::Damaged {
        id: manifest.id.clone(),
        what: if manifest.snapshot.encryption.is_some() {
            format!(
                "{} does not decrypt: it was truncated or changed ({e})",
                manifest.snapshot.file
            )
        } else {
            format!("cannot read {}: {e}", manifest.snapshot.file)
        },
    }
}

/// Copies the snapshot's plaintext into the new private file `dest` (a database file that a
/// restore or verification opens), fsynced.
pub fn materialize(
    snapshot: &Path,
    manifest: &Manifest,
    keys: &Keys,
    dest: &Path,
) -> Result<(), BackupError> {
    let mut reader = open_snapshot(snapshot, manifest, keys)?;
    let _ = std::fs::remove_file(dest);
    let mut out = store::create_private_file(dest)?;
    let copied = std::io::copy(&mut reader, &mut out);
    if let Err(e) = copied {
        drop(out);
        let _ = std::fs::remove_file(dest);
        return Err(unreadable(manifest, e));
    }
    out.sync_all().map_err(BackupError::io("fsync", dest))
}

/// A new identity: its secret text (for the identity file) and its public recipient.
pub fn generate() -> (String, String) {
    use age::secrecy::ExposeSecret;
    let key = age::x25519::Identity::generate();
    let secret = key.to_string().expose_secret().to_owned();
    (secret, key.to_public().to_string())
}

/// Writes a new identity file (0600, refusing to overwrite one) and returns its recipient.
pub fn keygen(path: &Path) -> Result<String, BackupError> {
    if path.exists() {
        return Err(BackupError::Refused(format!(
            "{} exists: an identity file is never overwritten (its backups would become unreadable); choose another path",
            path.display()
        )));
    }
    let (secret, public) = generate();
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let text = format!("# created: {created}\n# public key: {public}\n{secret}\n");
    // Written whole (a kill leaves no half key) and 0600 from its first byte.
    store::write_atomic(path, text.as_bytes())?;
    Ok(public)
}
