//! Refusing to start on a configuration that would be unsafe or could not work, with a message
//! naming the setting and exit code 2 (the code of a usage error), before anything is opened.

use std::process::ExitCode;

use crate::{Roles, Settings};

/// A setting that is wrong, named in the message with what to do instead.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Checks everything `roles` will need of the configuration, so that a mistake stops the process
/// at once rather than when the first request comes.
pub(crate) fn check(settings: &Settings, roles: Roles) -> Result<(), ConfigError> {
    if settings
        .auditors
        .as_deref()
        .is_some_and(|auditors| !auditors.trim().is_empty())
    {
        return Err(ConfigError::new(
            "CHAT_AUDITORS (--auditors) is no longer read: it named auditors by a username anyone \
             could register. Unset it, and make each auditor with \
             `chat role grant auditor <username>` (`chat role revoke auditor <username>` undoes it)",
        ));
    }
    if roles.serves_api() {
        settings.tokens()?;
        settings.allowed_origins()?;
        settings.trusted_proxies()?;
    }
    if roles.projector {
        settings.delivery()?;
    }
    Ok(())
}

/// The process's exit code for what `run` answered: 2 for a configuration error, 1 otherwise.
pub fn exit_code(outcome: &anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.downcast_ref::<ConfigError>().is_some() => ExitCode::from(2),
        Err(_) => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["chat", "all"];
        argv.extend_from_slice(args);
        Cli::parse_from(argv).settings
    }

    #[test]
    fn dev_mode_without_a_key_makes_a_throwaway_one_but_a_short_key_is_refused_even_there() {
        assert!(check(&settings(&["--dev"]), Roles::ALL).is_ok());
        let short = check(&settings(&["--dev", "--jwt-secret", "dev"]), Roles::ALL);
        assert!(short.unwrap_err().to_string().contains("CHAT_JWT_SECRET"));
    }

    #[test]
    fn a_role_without_http_needs_no_key() {
        assert!(check(&settings(&[]), Roles::of(&Command::Projector)).is_ok());
        assert!(check(&settings(&[]), Roles::ALL).is_err());
    }

    #[test]
    fn a_configuration_error_exits_2_and_any_other_1() {
        let config: anyhow::Result<()> = Err(ConfigError::new("x").into());
        assert_eq!(exit_code(&config), ExitCode::from(2));
        assert_eq!(exit_code(&Err(anyhow::anyhow!("down"))), ExitCode::FAILURE);
        assert_eq!(exit_code(&Ok(())), ExitCode::SUCCESS);
    }
}
