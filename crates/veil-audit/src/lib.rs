//! Tamper-evident audit log, retention and legal holds for Veil
