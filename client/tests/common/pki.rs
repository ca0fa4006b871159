//! Throw-away certificate authorities and leaf certificates made with rcgen.

use rcgen::{date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A PEM certificate and its PEM private key.
#[derive(Debug, Clone)]
pub struct Pem {
    /// The certificate.
    pub cert: String,
    /// The private key.
    pub key: String,
}

/// A certificate authority that can sign leaves.
pub struct Ca {
    /// The CA's own certificate and key.
    pub pem: Pem,
    params: CertificateParams,
    key: KeyPair,
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

impl Ca {
    /// A new self-signed CA with the given common name.
    pub fn new(name: &str) -> Res<Self> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            pem: Pem {
                cert: cert.pem(),
                key: key.serialize_pem(),
            },
            params,
            key,
        })
    }

    /// A leaf certificate for `names`, expired when `expired` is set.
    pub fn leaf(&self, names: &[&str], expired: bool) -> Res<Pem> {
        let key = KeyPair::generate()?;
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "setu test leaf");
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok(Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        })
    }
}
