//! The certificate, through a real rustls handshake (TLS 1.3 encrypts it)
//! with a verifier that records the chain and its verdict instead of
//! failing, read with x509-parser.

use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::probe::{ConnectError, Ended, Prober};
use crate::suites::Version;
use crate::wire::{Hello, certificates};

/// Which certificate a handshake asks for, by the signatures it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Any,
    Ecdsa,
    Rsa,
}

/// The facts a verdict needs about one leaf certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    /// `RSA`, `ECDSA`, `Ed25519`, …
    pub key_type: String,
    pub key_bits: u32,
    /// The curve of an ECDSA key (`P-256`).
    pub curve: Option<String>,
    pub signature: String,
    pub not_before: i64,
    pub not_after: i64,
    pub names: Vec<String>,
    /// The requested host is among the names.
    pub name_matches: bool,
    /// Why the chain does not verify, `None` when it does.
    pub chain_error: Option<String>,
    pub chain_length: usize,
    /// The protocol of the handshake that fetched it.
    pub protocol: String,
}

/// Why no certificate could be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the TLS handshake with {host} failed")]
    Handshake {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server's certificate is not X.509: {0}")]
    Parse(String),
    #[error("cannot read the CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("{0}")]
    Setup(String),
}

/// The trust anchors: `--ca-file`, else the system's roots.
pub fn roots(ca_file: Option<&Path>) -> Result<Arc<rustls::RootCertStore>, CertError> {
    let mut store = rustls::RootCertStore::empty();
    if let Some(path) = ca_file {
        let ca_error = |reason: String| CertError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("no PEM certificate in it".into()));
        }
        let (added, _) = store.add_parsable_certificates(certs);
        if added == 0 {
            return Err(ca_error(
                "none of its certificates can be a trust anchor".into(),
            ));
        }
    } else {
        let found = rustls_native_certs::load_native_certs();
        store.add_parsable_certificates(found.certs);
    }
    Ok(Arc::new(store))
}

fn webpki_verifier(
    roots: &Arc<rustls::RootCertStore>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, CertError> {
    WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .map_err(|e| CertError::Setup(format!("no usable trust anchors: {e}")))
}

/// Why webpki rejects the chain, `None` when it verifies. A name mismatch
/// is not a chain problem: the name is judged from the certificate's own
/// names.
fn chain_verdict(result: Result<ServerCertVerified, rustls::Error>) -> Option<String> {
    match result {
        Ok(_)
        | Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => None,
        Err(error) => Some(error.to_string()),
    }
}

#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    want: Want,
    seen: Mutex<Option<(Vec<CertificateDer<'static>>, Option<String>)>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = chain_verdict(self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp,
            now,
        ));
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((chain, verdict));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let all = self.inner.supported_verify_schemes();
        all.into_iter()
            .filter(|scheme| {
                let name = format!("{scheme:?}");
                match self.want {
                    Want::Any => true,
                    Want::Ecdsa => name.starts_with("ECDSA"),
                    Want::Rsa => name.starts_with("RSA"),
                }
            })
            .collect()
    }
}

/// Handshakes with rustls and reads the leaf the server sent.
pub fn fetch(
    prober: &mut Prober,
    host: &str,
    roots: &Arc<rustls::RootCertStore>,
    want: Want,
) -> Result<CertFacts, CertError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = webpki_verifier(roots, &provider)?;
    let recorder = Arc::new(Recorder {
        inner,
        want,
        seen: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CertError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    // The SNI goes out as asked; the name judged is the requested host.
    let sni = prober.sni.clone().unwrap_or_else(|| host.to_owned());
    let server_name = ServerName::try_from(sni.clone())
        .map_err(|_| CertError::Setup(format!("{sni:?} is not a valid TLS server name")))?;
    let mut connection = rustls::ClientConnection::new(Arc::new(config), server_name)
        .map_err(|e| CertError::Setup(e.to_string()))?;
    let mut stream = prober.connect()?;
    let _ = stream.set_read_timeout(Some(prober.patience()));
    let _ = stream.set_write_timeout(Some(prober.read_timeout));
    let handshake_error = |source| CertError::Handshake {
        host: prober.addr.to_string(),
        source,
    };
    while connection.is_handshaking() {
        if let Err(error) = connection.complete_io(&mut stream) {
            // A chain seen before a later failure still counts.
            if recorder.seen.lock().is_ok_and(|s| s.is_some()) {
                break;
            }
            return Err(handshake_error(error));
        }
    }
    let protocol = connection
        .protocol_version()
        .map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}"));
    connection.send_close_notify();
    let _ = connection.complete_io(&mut stream);
    let _ = stream.flush();
    let seen = recorder
        .seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let Some((chain, chain_error)) = seen else {
        return Err(handshake_error(std::io::Error::other(
            "no certificate was sent",
        )));
    };
    facts(&chain, chain_error, host, protocol)
}

/// The chain from a TLS ≤ 1.1 flight, for servers rustls cannot talk to:
/// a hello with suites the server accepted, read to the Certificate
/// (plaintext before TLS 1.3), verified with webpki as a handshake would.
pub fn fetch_legacy(
    prober: &mut Prober,
    version: Version,
    suites: &[u16],
    host: &str,
    roots: &Arc<rustls::RootCertStore>,
) -> Result<CertFacts, CertError> {
    let sni = prober.sni.clone();
    let hello = Hello {
        version,
        suites,
        groups: &[29, 23, 24, 25],
        sni: sni.as_deref(),
    };
    let ended = prober.exchange(&hello, |bytes| certificates(bytes).is_some())?;
    let chain = match ended {
        Ended::Done(bytes) => certificates(&bytes).unwrap_or_default(),
        _ => Vec::new(),
    };
    if chain.is_empty() {
        return Err(CertError::Handshake {
            host: prober.addr.to_string(),
            source: std::io::Error::other(format!("no certificate in the {version} reply")),
        });
    }
    let chain: Vec<CertificateDer<'static>> = chain.into_iter().map(CertificateDer::from).collect();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = webpki_verifier(roots, &provider)?;
    let name = ServerName::try_from(sni.unwrap_or_else(|| host.to_owned()))
        .map_err(|_| CertError::Setup(format!("{host:?} is not a valid TLS server name")))?;
    let chain_error = chain_verdict(verifier.verify_server_cert(
        &chain[0],
        &chain[1..],
        &name,
        &[],
        UnixTime::now(),
    ));
    facts(&chain, chain_error, host, version.name().to_owned())
}

/// Reads the leaf of `chain`.
pub fn facts(
    chain: &[CertificateDer<'_>],
    chain_error: Option<String>,
    host: &str,
    protocol: String,
) -> Result<CertFacts, CertError> {
    let leaf = chain
        .first()
        .ok_or_else(|| CertError::Parse("empty chain".into()))?;
    let (_, cert) = X509Certificate::from_der(leaf).map_err(|e| CertError::Parse(e.to_string()))?;
    let (key_type, key_bits, curve) = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA", u32::try_from(rsa.key_size()).unwrap_or(0), None),
        Ok(PublicKey::EC(point)) => {
            let bits = u32::try_from(point.key_size()).unwrap_or(0);
            let curve = match bits {
                256 => "P-256",
                384 => "P-384",
                521 | 528 => "P-521",
                _ => "other",
            };
            ("ECDSA", bits, Some(curve.to_owned()))
        }
        Ok(PublicKey::DSA(_)) => ("DSA", 0, None),
        _ => {
            let oid = cert.public_key().algorithm.algorithm.to_id_string();
            match oid.as_str() {
                "1.3.101.112" => ("Ed25519", 256, None),
                "1.3.101.113" => ("Ed448", 456, None),
                _ => ("unknown", 0, None),
            }
        }
    };
    let signature = x509_parser::objects::oid2sn(
        &cert.signature_algorithm.algorithm,
        x509_parser::objects::oid_registry(),
    )
    .map_or_else(
        |_| cert.signature_algorithm.algorithm.to_id_string(),
        str::to_owned,
    );
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(octets) = <[u8; 4]>::try_from(*bytes) {
                        names.push(std::net::Ipv4Addr::from(octets).to_string());
                    } else if let Ok(octets) = <[u8; 16]>::try_from(*bytes) {
                        names.push(std::net::Ipv6Addr::from(octets).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let name_matches = names.iter().any(|name| name_matches(name, host));
    Ok(CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        key_type: key_type.to_owned(),
        key_bits,
        curve,
        signature,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        names,
        name_matches,
        chain_error,
        chain_length: chain.len(),
        protocol,
    })
}

/// RFC 6125 matching: exact (case-insensitive), or a `*.` wildcard for one
/// left-most label.
#[must_use]
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(suffix) = pattern.strip_prefix("*.") {
        return host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix);
    }
    pattern == host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_exactly_or_by_one_wildcard_label() {
        assert!(name_matches("localhost", "LocalHost"));
        assert!(name_matches("*.example.org", "www.example.org"));
        assert!(!name_matches("*.example.org", "a.b.example.org"));
        assert!(!name_matches("*.example.org", "example.org"));
        assert!(name_matches("127.0.0.1", "127.0.0.1"));
        assert!(!name_matches("localhost", "otherhost"));
    }
}
