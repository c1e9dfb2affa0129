//! The write side's use cases, shared by every transport: the HTTP command API and the WebSocket
//! gateway call the same functions with validated domain values and get typed outcomes built
//! from the committed events, or a [`CommandError`] with a stable [`code`](CommandError::code).
//!
//! Register, create, join and leave answer once the projection has applied their events, so the
//! caller's next read sees them (read-your-writes), or say the wait ran out ([`Projected`]);
//! posting a message answers at once with its `seq`.

mod accounts;
mod bots;
mod direct;
mod error;
mod message_changes;
mod message_facts;
mod messages;
mod roles;
mod rooms;
mod sent;
mod sessions;
mod state;
mod tickets;
mod webhook_deliveries;
mod webhooks;

pub use accounts::{Attempt, LoggedIn, Registered};
pub use bots::{CreatedBot, OwnedBot, BOT_SUFFIX};
pub use error::CommandError;
pub use message_changes::MessageChange;
pub use messages::{NewMessage, PostedMessage, SendTurn};
pub use roles::{change_role, RoleChange};
pub use rooms::{CreatedRoom, Joined, Left, NewRoom};
pub use sent::{forget_expired_client_msg_ids, CLIENT_MSG_IDS_KEPT};
pub use sessions::PasswordChange;
pub use state::{CommandSettings, Commands, Projected};
pub use tickets::SocketTicket;
pub use webhook_deliveries::{DeliveryAttempt, DeliveryPage, WebhookDelivery};
pub use webhooks::{CreatedWebhook, NewWebhook, SECRET_PREFIX};
