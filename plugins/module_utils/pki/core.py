# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys, names, CSRs, the CA and the signing policy, on `cryptography`.

Plain, typed Python with no Ansible imports, so it is unit-tested directly.
Every failure is a PkiError whose message names the option or file at fault.
"""

from __future__ import annotations

import datetime
import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

MIN_CRYPTOGRAPHY_VERSION = "45.0"

try:
    import cryptography
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    CRYPTOGRAPHY_IMPORT_ERROR: Optional[str] = None
    CRYPTOGRAPHY_VERSION = cryptography.__version__
except ImportError as _exc:  # pragma: no cover - exercised on hosts without the library
    CRYPTOGRAPHY_IMPORT_ERROR = str(_exc)
    CRYPTOGRAPHY_VERSION = "0"

PrivateKey = Union["rsa.RSAPrivateKey", "ec.EllipticCurvePrivateKey"]


class PkiError(Exception):
    """Bad input or state; the message says which option or file and what is wrong."""


def cryptography_problem() -> Optional[str]:
    """None when a usable `cryptography` is importable, else why not."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        return "the Python library cryptography >= %s is required on this host (%s)" % (
            MIN_CRYPTOGRAPHY_VERSION, CRYPTOGRAPHY_IMPORT_ERROR)
    found = tuple(int(p) for p in re.findall(r"\d+", CRYPTOGRAPHY_VERSION)[:2])
    wanted = tuple(int(p) for p in MIN_CRYPTOGRAPHY_VERSION.split("."))
    if found < wanted:
        return "the Python library cryptography >= %s is required on this host, found %s" % (
            MIN_CRYPTOGRAPHY_VERSION, CRYPTOGRAPHY_VERSION)
    return None


# --------------------------------------------------------------------------- keys

RSA_KEY_SIZES = (2048, 3072, 4096)
EC_CURVES = {"P-256": "secp256r1", "P-384": "secp384r1"}


@dataclass(frozen=True)
class KeySpec:
    """What kind of private key is wanted."""

    key_type: str = "rsa"
    key_size: int = 3072
    ec_curve: str = "P-256"

    def validate(self, option_prefix: str = "") -> None:
        if self.key_type == "rsa":
            if self.key_size not in RSA_KEY_SIZES:
                raise PkiError("%skey_size %s is not supported for rsa keys: use one of %s" % (
                    option_prefix, self.key_size, ", ".join(str(s) for s in RSA_KEY_SIZES)))
        elif self.key_type == "ec":
            if self.ec_curve not in EC_CURVES:
                raise PkiError("%sec_curve %s is not supported: use one of %s" % (
                    option_prefix, self.ec_curve, ", ".join(EC_CURVES)))
        else:
            raise PkiError("%skey_type %r is not supported: use rsa or ec" % (option_prefix, self.key_type))

    def describe(self) -> str:
        return "rsa %d" % self.key_size if self.key_type == "rsa" else "ec %s" % self.ec_curve


def _curve(name: str) -> "ec.EllipticCurve":
    return ec.SECP256R1() if name == "P-256" else ec.SECP384R1()


def generate_private_key(spec: KeySpec) -> PrivateKey:
    spec.validate()
    if spec.key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=spec.key_size)
    return ec.generate_private_key(_curve(spec.ec_curve))


def key_spec_of(key: object) -> KeySpec:
    """The KeySpec an existing key satisfies (unsupported types raise)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return KeySpec("rsa", key.key_size)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for label, curve_name in EC_CURVES.items():
            if key.curve.name == curve_name:
                return KeySpec("ec", ec_curve=label)
        raise PkiError("elliptic curve %s is not supported: use P-256 or P-384" % key.curve.name)
    raise PkiError("key type %s is not supported: use rsa or ec keys" % type(key).__name__)


def key_matches_spec(key: object, spec: KeySpec) -> bool:
    try:
        found = key_spec_of(key)
    except PkiError:
        return False
    if spec.key_type == "rsa":
        return found.key_type == "rsa" and found.key_size == spec.key_size
    return found.key_type == "ec" and found.ec_curve == spec.ec_curve


def load_private_key(data: bytes, passphrase: Optional[str], source: str, trusted: bool = False) -> PrivateKey:
    """Parse a PEM private key; `source` names the option/file in errors.

    `trusted`: a key this collection wrote itself (0600, never sent anywhere) skips the RSA
    consistency check that cryptography otherwise runs on every load (~120 ms for RSA-3072); a key
    an operator brings (an imported CA) is always checked.
    """
    secret = passphrase.encode("utf-8") if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=secret, unsafe_skip_rsa_key_validation=trusted)
    except TypeError as exc:
        if "encrypted" in str(exc) and secret is None:
            raise PkiError("%s is encrypted: give its passphrase" % source) from None
        raise PkiError("%s is not encrypted, but a passphrase was given" % source) from None
    except ValueError as exc:
        if b"ENCRYPTED" in data and secret is not None:
            raise PkiError("%s cannot be decrypted: wrong passphrase" % source) from None
        raise PkiError("%s is not a valid PEM private key (%s)" % (source, exc)) from None
    try:
        key_spec_of(key)
    except PkiError as exc:
        raise PkiError("%s: %s" % (source, exc)) from None
    return key  # type: ignore[return-value]


def serialize_private_key(key: PrivateKey, passphrase: Optional[str] = None) -> bytes:
    """PKCS#8 PEM, encrypted with the best available cipher when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    else:
        encryption = serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def public_key_der(key: object) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def colon_hex(digest: bytes) -> str:
    return ":".join("%02X" % b for b in digest)


def public_key_fingerprint(key: object) -> str:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(public_key_der(key))
    return colon_hex(digest.finalize())


def certificate_fingerprint(cert: "x509.Certificate") -> str:
    return colon_hex(cert.fingerprint(hashes.SHA256()))


# ------------------------------------------------------------------- certificates

def load_certificates(data: Union[str, bytes], source: str) -> List["x509.Certificate"]:
    """All PEM certificates in data, in order; at least one."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    if b"-----BEGIN CERTIFICATE-----" not in raw:
        raise PkiError("%s holds no PEM certificate" % source)
    if raw.count(b"-----BEGIN CERTIFICATE-----") != raw.count(b"-----END CERTIFICATE-----"):
        raise PkiError("%s is truncated or malformed: a PEM certificate block is incomplete" % source)
    try:
        certs = x509.load_pem_x509_certificates(raw)
    except ValueError:
        raise PkiError("%s is not a valid PEM certificate: the base64 or DER inside a block is damaged" % source) from None
    if raw.count(b"-----BEGIN CERTIFICATE-----") != len(certs) or raw.count(b"-----END CERTIFICATE-----") != len(certs):
        raise PkiError("%s is truncated or malformed: a PEM certificate block is incomplete" % source)
    return certs


def load_certificate_der(path: str) -> bytes:
    """The first certificate of a PEM file (a leaf before its chain), as DER."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise PkiError("%s cannot be read: %s" % (path, exc.strerror or exc)) from None
    return load_certificates(data, path)[0].public_bytes(serialization.Encoding.DER)


def cert_pem(cert: "x509.Certificate") -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certs_pem(certs: Sequence["x509.Certificate"]) -> str:
    return "".join(cert_pem(c) for c in certs)


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def is_issued_by(cert: "x509.Certificate", issuer: "x509.Certificate") -> bool:
    """True when issuer's key signed cert and the names chain up."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def is_self_signed(cert: "x509.Certificate") -> bool:
    return is_issued_by(cert, cert)


def _basic_constraints(cert: "x509.Certificate") -> Optional["x509.BasicConstraints"]:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


# -------------------------------------------------------------------------- names

SUBJECT_ATTRIBUTES: Dict[str, "x509.ObjectIdentifier"] = {}
if CRYPTOGRAPHY_IMPORT_ERROR is None:
    # Most significant first, so Java prints the DN as CN=...,OU=...,O=...,C=...
    # which is what ssl.principal.mapping.rules such as ^CN=([^,]+),.*$ expect.
    SUBJECT_ATTRIBUTES = {
        "C": NameOID.COUNTRY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "L": NameOID.LOCALITY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
        "emailAddress": NameOID.EMAIL_ADDRESS,
    }

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def build_name(subject: Dict[str, str], option: str = "subject") -> "x509.Name":
    unknown = [k for k in subject if k not in SUBJECT_ATTRIBUTES]
    if unknown:
        raise PkiError("%s has unknown attribute(s) %s: use %s" % (
            option, ", ".join(sorted(unknown)), ", ".join(SUBJECT_ATTRIBUTES)))
    attributes = []
    for label, oid in SUBJECT_ATTRIBUTES.items():
        value = subject.get(label)
        if value is None or value == "":
            continue
        value = str(value)
        if label == "C" and not re.match(r"^[A-Z]{2}$", value):
            raise PkiError("%s.C must be a two-letter country code, got %r" % (option, value))
        if len(value) > 64:
            raise PkiError("%s.%s is longer than 64 characters" % (option, label))
        attributes.append(x509.NameAttribute(oid, value))
    if not attributes:
        raise PkiError("%s is empty: give at least CN" % option)
    return x509.Name(attributes)


def validate_dns_name(name: str, option: str = "dns_names") -> str:
    """Return the normalised DNS name or raise naming the bad value."""
    if not isinstance(name, str) or not name:
        raise PkiError("%s: empty DNS name" % option)
    candidate = name.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        pass
    else:
        raise PkiError("%s: %r is an IP address; list it under ip_addresses so it becomes an IP SAN" % (option, name))
    if len(candidate) > 253:
        raise PkiError("%s: %r is longer than 253 characters" % (option, name))
    labels = candidate.split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if len(labels) < 2:
            raise PkiError("%s: wildcard %r must cover a domain of at least two labels" % (option, name))
    for label in labels:
        if not _DNS_LABEL.match(label):
            raise PkiError("%s: %r is not a valid DNS name (label %r)" % (option, name, label))
    return candidate


def validate_ip_address(value: str, option: str = "ip_addresses") -> "ipaddress._BaseAddress":
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise PkiError("%s: %r is not a valid IPv4 or IPv6 address" % (option, value)) from None


@dataclass(frozen=True)
class SubjectNames:
    """Subject DN and SANs of a request or certificate, comparable as sets."""

    subject: "x509.Name"
    dns_names: Tuple[str, ...]
    ip_addresses: Tuple[str, ...]

    @property
    def san_set(self) -> Tuple[frozenset, frozenset]:
        return frozenset(self.dns_names), frozenset(self.ip_addresses)

    def describe(self) -> str:
        return "subject %s, DNS %s, IP %s" % (
            self.subject.rfc4514_string(), sorted(self.dns_names) or "-", sorted(self.ip_addresses) or "-")


def names_of(obj: Union["x509.Certificate", "x509.CertificateSigningRequest"]) -> SubjectNames:
    try:
        san = obj.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(n.lower() for n in san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = (), ()
    return SubjectNames(obj.subject, dns, ips)


# ---------------------------------------------------------------------------- CSR

SERVER_CLIENT_EKU = ("serverAuth", "clientAuth")
EKU_OIDS: Dict[str, "x509.ObjectIdentifier"] = {}
if CRYPTOGRAPHY_IMPORT_ERROR is None:
    EKU_OIDS = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH, "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH}


def _hash_for(key: object) -> "hashes.HashAlgorithm":
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def build_san(dns_names: Sequence[str], ip_addresses: Sequence[str]) -> "x509.SubjectAlternativeName":
    general: List[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    general += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses]
    return x509.SubjectAlternativeName(general)


def normalise_names(dns_names: Sequence[str], ip_addresses: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Validated, de-duplicated names in their given order."""
    dns: List[str] = []
    for name in dns_names or []:
        norm = validate_dns_name(name)
        if norm not in dns:
            dns.append(norm)
    ips: List[str] = []
    for value in ip_addresses or []:
        norm_ip = str(validate_ip_address(value))
        if norm_ip not in ips:
            ips.append(norm_ip)
    return dns, ips


def build_csr(key: PrivateKey, subject: "x509.Name", dns_names: Sequence[str],
              ip_addresses: Sequence[str]) -> "x509.CertificateSigningRequest":
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if dns_names or ip_addresses:
        builder = builder.add_extension(build_san(dns_names, ip_addresses), critical=False)
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([EKU_OIDS[e] for e in SERVER_CLIENT_EKU]), critical=False)
    return builder.sign(key, _hash_for(key))


def load_csr(data: Union[str, bytes], source: str = "csr") -> "x509.CertificateSigningRequest":
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        csr = x509.load_pem_x509_csr(raw)
    except ValueError as exc:
        raise PkiError("%s is not a valid PEM certificate signing request (%s)" % (source, exc)) from None
    if not csr.is_signature_valid:
        raise PkiError("%s: the CSR signature does not verify with the public key it carries "
                       "(signed by a different key, or altered)" % source)
    return csr


# ----------------------------------------------------------------------------- CA

def _not_before(now: datetime.datetime) -> datetime.datetime:
    # Tolerates a few minutes of clock skew between the CA host and the peers.
    return now - datetime.timedelta(minutes=5)


def create_ca_certificate(key: PrivateKey, subject: "x509.Name", validity_days: int, path_length: Optional[int],
                          now: Optional[datetime.datetime] = None) -> "x509.Certificate":
    if validity_days <= 0:
        raise PkiError("validity_days must be positive, got %d" % validity_days)
    now = now or utcnow()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_not_before(now))
        .not_valid_after(now + datetime.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    return builder.sign(key, _hash_for(key))


@dataclass
class CertificateAuthority:
    """A CA certificate, its key, and the chain above it up to the root."""

    certificate: "x509.Certificate"
    key: PrivateKey
    issuers: List["x509.Certificate"] = field(default_factory=list)

    @property
    def chain(self) -> List["x509.Certificate"]:
        """The CA certificate followed by its issuers, root last."""
        return [self.certificate] + list(self.issuers)

    @property
    def root(self) -> "x509.Certificate":
        return self.chain[-1]


def validate_ca(ca: CertificateAuthority, cert_source: str, key_source: str,
                chain_source: str = "chain", now: Optional[datetime.datetime] = None) -> None:
    """Raise PkiError unless ca is a usable, current CA whose key and chain fit."""
    now = now or utcnow()
    cert = ca.certificate
    if public_key_der(ca.key) != public_key_der(cert.public_key()):
        raise PkiError("%s does not match the CA certificate %s: the key belongs to another certificate" % (
            key_source, cert_source))
    constraints = _basic_constraints(cert)
    if constraints is None or not constraints.ca:
        raise PkiError("%s is not a CA certificate (basicConstraints CA:TRUE is missing)" % cert_source)
    if cert.not_valid_after_utc <= now:
        raise PkiError("%s: the CA certificate expired at %s; renew or rotate the CA" % (
            cert_source, iso(cert.not_valid_after_utc)))
    if cert.not_valid_before_utc > now + datetime.timedelta(minutes=5):
        raise PkiError("%s: the CA certificate is not valid before %s (check the clock)" % (
            cert_source, iso(cert.not_valid_before_utc)))
    previous = cert
    for position, issuer in enumerate(ca.issuers, start=1):
        if not is_issued_by(previous, issuer):
            raise PkiError("%s: certificate %d (%s) did not issue %s; order the chain issuer first, root last" % (
                chain_source, position, issuer.subject.rfc4514_string(), previous.subject.rfc4514_string()))
        if issuer.not_valid_after_utc <= now:
            raise PkiError("%s: certificate %d (%s) expired at %s" % (
                chain_source, position, issuer.subject.rfc4514_string(), iso(issuer.not_valid_after_utc)))
        previous = issuer
    if not ca.issuers and not is_self_signed(cert):
        raise PkiError("%s is not self-signed: give the chain above it (up to the root) as the chain" % cert_source)


# ------------------------------------------------------------------------ signing

@dataclass(frozen=True)
class SignPolicy:
    validity_days: int = 365
    renewal_days: int = 30
    allowed_dns_names: Optional[Tuple[str, ...]] = None
    allowed_ip_addresses: Optional[Tuple[str, ...]] = None
    allowed_common_names: Optional[Tuple[str, ...]] = None
    extended_key_usage: Tuple[str, ...] = SERVER_CLIENT_EKU

    def validate(self) -> None:
        if self.validity_days <= 0:
            raise PkiError("validity_days must be positive, got %d" % self.validity_days)
        if self.renewal_days < 0:
            raise PkiError("renewal_days must not be negative, got %d" % self.renewal_days)
        if self.renewal_days >= self.validity_days:
            raise PkiError("renewal_days (%d) must be smaller than validity_days (%d), or every run would reissue" % (
                self.renewal_days, self.validity_days))
        unknown = [e for e in self.extended_key_usage if e not in EKU_OIDS]
        if unknown:
            raise PkiError("extended_key_usage: unknown usage(s) %s: use %s" % (", ".join(unknown), ", ".join(EKU_OIDS)))
        for value in self.allowed_ip_addresses or ():
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise PkiError("allowed_ip_addresses: %r is not an IP address or network" % value) from None

    def disallowed(self, names: SubjectNames) -> List[str]:
        """What the request asks for that the policy does not allow, each with the option at fault."""
        bad: List[str] = []
        if self.allowed_dns_names is not None:
            patterns = [p.lower() for p in self.allowed_dns_names]
            bad += ["DNS:%s (allowed_dns_names)" % d for d in names.dns_names
                    if not any(fnmatch.fnmatchcase(d, p) for p in patterns)]
        if self.allowed_ip_addresses is not None:
            networks = [ipaddress.ip_network(v, strict=False) for v in self.allowed_ip_addresses]
            bad += ["IP:%s (allowed_ip_addresses)" % i for i in names.ip_addresses
                    if not any(ipaddress.ip_address(i) in n for n in networks)]
        if self.allowed_common_names is not None:
            # Kafka's principal mapping usually turns the CN into the principal: a host must not pick its own.
            common_names = [a.value for a in names.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
            bad += ["CN=%s (allowed_common_names)" % cn for cn in common_names
                    if not any(fnmatch.fnmatchcase(str(cn), p) for p in self.allowed_common_names)]
        return bad


REASON_KEPT = "kept"
REASON_MISSING = "missing"
REASON_OTHER_CA = "other CA"
REASON_KEY_CHANGED = "key changed"
REASON_NAMES_CHANGED = "names changed"
REASON_EXPIRING = "expiring"
REASON_FORCED = "forced"


def _eku_of(cert: "x509.Certificate") -> frozenset:
    try:
        return frozenset(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return frozenset()


def reissue_reason(current: Optional[Sequence["x509.Certificate"]], csr: "x509.CertificateSigningRequest",
                   ca: CertificateAuthority, policy: SignPolicy,
                   now: Optional[datetime.datetime] = None) -> str:
    """Why the current certificate must be replaced, or REASON_KEPT."""
    now = now or utcnow()
    if not current:
        return REASON_MISSING
    leaf = current[0]
    if not is_issued_by(leaf, ca.certificate):
        return REASON_OTHER_CA
    if leaf.not_valid_before_utc < ca.certificate.not_valid_before_utc:
        # Issued under an earlier certificate of the same CA key and name (a renewed CA): re-sign under this one.
        return REASON_OTHER_CA
    if public_key_der(leaf.public_key()) != public_key_der(csr.public_key()):
        return REASON_KEY_CHANGED
    have, want = names_of(leaf), names_of(csr)
    if have.subject != want.subject or have.san_set != want.san_set:
        return REASON_NAMES_CHANGED
    if _eku_of(leaf) != frozenset(EKU_OIDS[e] for e in policy.extended_key_usage):
        return REASON_NAMES_CHANGED
    if leaf.not_valid_after_utc - now <= datetime.timedelta(days=policy.renewal_days):
        return REASON_EXPIRING
    return REASON_KEPT


def issue_certificate(csr: "x509.CertificateSigningRequest", ca: CertificateAuthority, policy: SignPolicy,
                      now: Optional[datetime.datetime] = None) -> Tuple["x509.Certificate", List[str]]:
    """Sign the CSR under the policy; returns the certificate and warnings."""
    now = now or utcnow()
    warnings: List[str] = []
    names = names_of(csr)
    not_after = now + datetime.timedelta(days=policy.validity_days)
    if not_after > ca.certificate.not_valid_after_utc:
        not_after = ca.certificate.not_valid_after_utc
        warnings.append("the certificate for %s ends with the CA on %s, before validity_days; rotate the CA" % (
            names.subject.rfc4514_string(), iso(not_after)))
    public_key = csr.public_key()
    is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    try:
        ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(max(_not_before(now), ca.certificate.not_valid_before_utc))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=is_rsa, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
        .add_extension(x509.ExtendedKeyUsage([EKU_OIDS[e] for e in policy.extended_key_usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(aki, critical=False)
    )
    if names.dns_names or names.ip_addresses:
        builder = builder.add_extension(build_san(names.dns_names, names.ip_addresses), critical=False)
    return builder.sign(ca.key, _hash_for(ca.key)), warnings
