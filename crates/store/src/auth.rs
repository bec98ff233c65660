//! Who is asking: API tokens (stored as SHA-256, never in clear), local users (argon2), teams,
//! and the [`Principal`] every call takes. Also the audit log every write appends to.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::driver::{params, Conn, Row};
use crate::{now_ms, Result, Store, StoreError};

/// What a principal may do. `admin` implies every other scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Upload reports and SBOMs.
    Upload,
    /// Read assets, findings, metrics.
    Read,
    /// Record triage decisions.
    Triage,
    /// Everything, including tokens, teams and rules.
    Admin,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 4] = [Scope::Upload, Scope::Read, Scope::Triage, Scope::Admin];

    /// The scope's name (`upload`, `read`, `triage`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Upload => "upload",
            Scope::Read => "read",
            Scope::Triage => "triage",
            Scope::Admin => "admin",
        }
    }

    /// The scope [`Scope::as_str`] names.
    pub fn parse(name: &str) -> Result<Scope> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown scope {name:?}; expected upload, read, triage or admin"
                ))
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn scopes_text(scopes: &[Scope]) -> String {
    let mut s: Vec<Scope> = scopes.to_vec();
    s.sort();
    s.dedup();
    s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

fn parse_scopes(text: &str) -> Result<Vec<Scope>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(Scope::parse)
        .collect()
}

/// What kind of caller a [`Principal`] is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "id")]
pub enum PrincipalKind {
    /// An API token (its row id).
    Token(i64),
    /// A local user (its row id).
    User(i64),
    /// The server itself (rematch, snapshots, startup); unrestricted.
    System,
}

/// An authenticated caller: its scopes and, when limited to one team, that team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The token's or user's name.
    pub name: String,
    pub scopes: Vec<Scope>,
    /// `Some`: sees and writes only this team's assets.
    pub team: Option<TeamInfo>,
}

impl Principal {
    /// The server acting on its own behalf: every scope, every team.
    pub fn system(name: &str) -> Principal {
        Principal {
            kind: PrincipalKind::System,
            name: name.to_string(),
            scopes: vec![Scope::Admin],
            team: None,
        }
    }

    /// Whether it holds `scope` (admin holds all).
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }

    /// `Err(Forbidden)` unless it holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!(
                "{} lacks the {scope} scope",
                self.actor()
            )))
        }
    }

    /// The team id it is limited to, if any.
    pub fn team_id(&self) -> Option<i64> {
        self.team.as_ref().map(|t| t.id)
    }

    /// Whether it may see an asset of `team_id`.
    pub fn sees_team(&self, team_id: Option<i64>) -> bool {
        match self.team_id() {
            None => true,
            Some(t) => team_id == Some(t),
        }
    }

    /// How the audit log names it (`token:3:ci`, `user:1:alice`, `system:rematch`).
    pub fn actor(&self) -> String {
        match self.kind {
            PrincipalKind::Token(id) => format!("token:{id}:{}", self.name),
            PrincipalKind::User(id) => format!("user:{id}:{}", self.name),
            PrincipalKind::System => format!("system:{}", self.name),
        }
    }
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInfo {
    pub id: i64,
    pub name: String,
}

/// A token as the admin API lists it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub team: Option<TeamInfo>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A local user (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub team: Option<TeamInfo>,
    pub created_at: i64,
}

/// The prefix of every token bulwark makes, so secret scanners can spot a leaked one.
pub const TOKEN_PREFIX: &str = "bwk_";

/// Last-used times are written at most this often per token, so reads stay reads.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

pub(crate) fn hash_token(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Invalid(format!("no randomness for a token: {e}")))?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

pub(crate) fn audit(
    c: &mut dyn Conn,
    who: &Principal,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    c.execute(
        "INSERT INTO audit_log (actor, action, target, detail, at) VALUES ($1, $2, $3, $4, $5)",
        &params![who.actor(), action, target, detail.to_string(), now_ms()],
    )?;
    Ok(())
}

fn team_of(row: &Row, id_col: usize) -> Result<Option<TeamInfo>> {
    Ok(match row.opt_i64(id_col)? {
        Some(id) => Some(TeamInfo {
            id,
            name: row.text(id_col + 1)?,
        }),
        None => None,
    })
}

pub(crate) fn team_id_by_name(c: &mut dyn Conn, name: &str) -> Result<Option<i64>> {
    c.query_opt("SELECT id FROM teams WHERE name = $1", &params![name])?
        .map(|r| r.i64(0))
        .transpose()
}

/// The team's id, creating it when missing.
pub(crate) fn ensure_team(c: &mut dyn Conn, name: &str) -> Result<i64> {
    if let Some(id) = team_id_by_name(c, name)? {
        return Ok(id);
    }
    c.execute(
        "INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &params![name, now_ms()],
    )?;
    team_id_by_name(c, name)?
        .ok_or_else(|| StoreError::NotFound(format!("team {name:?} (just created)")))
}

fn check_team_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(StoreError::Invalid(
            "a team name must be 1 to 200 characters".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Creates a team (admin only). A duplicate name is [`StoreError::Invalid`].
    pub fn create_team(&self, who: &Principal, name: &str) -> Result<TeamInfo> {
        who.require(Scope::Admin)?;
        check_team_name(name)?;
        self.engine.write(|c| {
            if team_id_by_name(c, name)?.is_some() {
                return Err(StoreError::Invalid(format!("team {name:?} already exists")));
            }
            let id = ensure_team(c, name)?;
            audit(
                c,
                who,
                "team.create",
                &format!("team:{id}"),
                &serde_json::json!({ "name": name }),
            )?;
            Ok(TeamInfo {
                id,
                name: name.to_string(),
            })
        })
    }

    /// Every team the principal may see (all for unrestricted principals), by name.
    pub fn list_teams(&self, who: &Principal) -> Result<Vec<TeamInfo>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let rows = c.query("SELECT id, name FROM teams ORDER BY name", &[])?;
            let mut out = Vec::new();
            for r in rows {
                let t = TeamInfo {
                    id: r.i64(0)?,
                    name: r.text(1)?,
                };
                if who.sees_team(Some(t.id)) {
                    out.push(t);
                }
            }
            Ok(out)
        })
    }

    /// Makes an API token (admin only). Returns its id and the plaintext, which is shown once
    /// and never stored: only its SHA-256 is. `team`: limit it to that team (created when
    /// missing).
    pub fn create_token(
        &self,
        who: &Principal,
        name: &str,
        scopes: &[Scope],
        team: Option<&str>,
    ) -> Result<(i64, String)> {
        who.require(Scope::Admin)?;
        if scopes.is_empty() {
            return Err(StoreError::Invalid(
                "a token needs at least one scope (upload, read, triage, admin)".into(),
            ));
        }
        if let Some(t) = team {
            check_team_name(t)?;
        }
        // A team-limited admin may only make tokens for its own team.
        if let (Some(mine), requested) = (&who.team, team) {
            if requested != Some(mine.name.as_str()) {
                return Err(StoreError::Forbidden(format!(
                    "{} may only create tokens for team {:?}",
                    who.actor(),
                    mine.name
                )));
            }
        }
        let plaintext = new_token()?;
        let hash = hash_token(&plaintext);
        let id = self.engine.write(|c| {
            let team_id = team.map(|t| ensure_team(c, t)).transpose()?;
            let id = c
                .query_one(
                    "INSERT INTO tokens (name, token_hash, scopes, team_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &params![name, hash.as_str(), scopes_text(scopes), team_id, now_ms()],
                )?
                .i64(0)?;
            audit(
                c,
                who,
                "token.create",
                &format!("token:{id}"),
                &serde_json::json!({ "name": name, "scopes": scopes, "team": team }),
            )?;
            Ok(id)
        })?;
        Ok((id, plaintext))
    }

    /// Registers `plaintext` (from `BULWARK_ADMIN_TOKEN`) as an unrestricted admin token named
    /// `admin`. Idempotent: the same plaintext again changes nothing. Returns the token id.
    pub fn ensure_admin_token(&self, plaintext: &str) -> Result<i64> {
        if plaintext.trim().len() < 16 {
            return Err(StoreError::Invalid(
                "the admin token must be at least 16 characters; generate one with e.g. `openssl rand -hex 32`".into(),
            ));
        }
        let hash = hash_token(plaintext);
        self.engine.write(|c| {
            if let Some(r) = c.query_opt(
                "SELECT id FROM tokens WHERE token_hash = $1",
                &params![hash.as_str()],
            )? {
                let id = r.i64(0)?;
                c.execute(
                    "UPDATE tokens SET revoked_at = NULL, scopes = $2, team_id = NULL WHERE id = $1",
                    &params![id, scopes_text(&[Scope::Admin])],
                )?;
                return Ok(id);
            }
            let id = c
                .query_one(
                    "INSERT INTO tokens (name, token_hash, scopes, team_id, created_at) \
                     VALUES ($1, $2, $3, NULL, $4) RETURNING id",
                    &params!["admin", hash.as_str(), scopes_text(&[Scope::Admin]), now_ms()],
                )?
                .i64(0)?;
            audit(
                c,
                &Principal::system("startup"),
                "token.create",
                &format!("token:{id}"),
                &serde_json::json!({ "name": "admin", "scopes": ["admin"], "from": "BULWARK_ADMIN_TOKEN" }),
            )?;
            Ok(id)
        })
    }

    /// Whether any unrevoked admin token exists (the server prints a first one when not).
    pub fn has_admin_token(&self) -> Result<bool> {
        self.engine.read(|c| {
            Ok(c.query_opt(
                "SELECT id FROM tokens WHERE revoked_at IS NULL AND team_id IS NULL AND scopes LIKE $1 LIMIT 1",
                &params!["%admin%"],
            )?
            .is_some())
        })
    }

    /// The principal a token belongs to, or `None` for an unknown or revoked token.
    pub fn authenticate(&self, plaintext: &str) -> Result<Option<Principal>> {
        let hash = hash_token(plaintext.trim());
        let found = self.engine.read(|c| {
            let Some(r) = c.query_opt(
                "SELECT t.id, t.name, t.scopes, t.team_id, teams.name, t.last_used_at \
                 FROM tokens t LEFT JOIN teams ON teams.id = t.team_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
                &params![hash.as_str()],
            )?
            else {
                return Ok(None);
            };
            let principal = Principal {
                kind: PrincipalKind::Token(r.i64(0)?),
                name: r.text(1)?,
                scopes: parse_scopes(&r.text(2)?)?,
                team: team_of(&r, 3)?,
            };
            Ok(Some((principal, r.opt_i64(5)?)))
        })?;
        let Some((principal, last_used)) = found else {
            return Ok(None);
        };
        let now = now_ms();
        if last_used.is_none_or(|t| now - t >= LAST_USED_GRANULARITY_MS) {
            if let PrincipalKind::Token(id) = principal.kind {
                self.engine.write(|c| {
                    c.execute(
                        "UPDATE tokens SET last_used_at = $2 WHERE id = $1",
                        &params![id, now],
                    )
                })?;
            }
        }
        Ok(Some(principal))
    }

    /// Revokes a token (admin only; a team-limited admin only its team's).
    pub fn revoke_token(&self, who: &Principal, id: i64) -> Result<()> {
        who.require(Scope::Admin)?;
        self.engine.write(|c| {
            let team = c
                .query_opt("SELECT team_id FROM tokens WHERE id = $1", &params![id])?
                .ok_or_else(|| StoreError::NotFound(format!("token {id}")))?
                .opt_i64(0)?;
            if !who.sees_team(team) {
                return Err(StoreError::NotFound(format!("token {id}")));
            }
            c.execute(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &params![id, now_ms()],
            )?;
            audit(
                c,
                who,
                "token.revoke",
                &format!("token:{id}"),
                &serde_json::json!({}),
            )
        })
    }

    /// The tokens an admin may see.
    pub fn list_tokens(&self, who: &Principal) -> Result<Vec<TokenInfo>> {
        who.require(Scope::Admin)?;
        self.engine.read(|c| {
            let rows = c.query(
                "SELECT t.id, t.name, t.scopes, t.team_id, teams.name, t.created_at, t.last_used_at, t.revoked_at \
                 FROM tokens t LEFT JOIN teams ON teams.id = t.team_id ORDER BY t.id",
                &[],
            )?;
            let mut out = Vec::new();
            for r in rows {
                let team = team_of(&r, 3)?;
                if !who.sees_team(team.as_ref().map(|t| t.id)) {
                    continue;
                }
                out.push(TokenInfo {
                    id: r.i64(0)?,
                    name: r.text(1)?,
                    scopes: parse_scopes(&r.text(2)?)?,
                    team,
                    created_at: r.i64(5)?,
                    last_used_at: r.opt_i64(6)?,
                    revoked_at: r.opt_i64(7)?,
                });
            }
            Ok(out)
        })
    }

    /// Creates a local user with an argon2id password hash (admin only).
    pub fn create_user(
        &self,
        who: &Principal,
        name: &str,
        password: &str,
        scopes: &[Scope],
        team: Option<&str>,
    ) -> Result<UserInfo> {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        who.require(Scope::Admin)?;
        if password.chars().count() < 12 {
            return Err(StoreError::Invalid(
                "a password must be at least 12 characters".into(),
            ));
        }
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| StoreError::Password(e.to_string()))?
            .to_string();
        self.engine.write(|c| {
            let team_id = team.map(|t| ensure_team(c, t)).transpose()?;
            let now = now_ms();
            let id = c
                .query_one(
                    "INSERT INTO users (name, password_hash, scopes, team_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &params![name, hash.as_str(), scopes_text(scopes), team_id, now],
                )
                .map_err(|e| {
                    if e.is_unique_violation() {
                        StoreError::Invalid(format!("user {name:?} already exists"))
                    } else {
                        e
                    }
                })?
                .i64(0)?;
            audit(
                c,
                who,
                "user.create",
                &format!("user:{id}"),
                &serde_json::json!({ "name": name, "scopes": scopes, "team": team }),
            )?;
            Ok(UserInfo {
                id,
                name: name.to_string(),
                scopes: scopes.to_vec(),
                team: team_id.map(|id| TeamInfo {
                    id,
                    name: team.unwrap_or_default().to_string(),
                }),
                created_at: now,
            })
        })
    }

    /// The user's principal when `password` is right, else `None` (same answer for an
    /// unknown user, so names cannot be probed).
    pub fn login(&self, name: &str, password: &str) -> Result<Option<Principal>> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let row = self.engine.read(|c| {
            c.query_opt(
                "SELECT u.id, u.name, u.scopes, u.team_id, teams.name, u.password_hash \
                 FROM users u LEFT JOIN teams ON teams.id = u.team_id \
                 WHERE u.name = $1 AND u.disabled_at IS NULL",
                &params![name],
            )
        })?;
        let Some(r) = row else {
            return Ok(None);
        };
        let stored = r.text(5)?;
        let parsed = PasswordHash::new(&stored).map_err(|e| StoreError::Corrupt {
            backend: self.backend_name(),
            target: self.target().to_string(),
            what: format!("password hash of user {name:?}: {e}"),
        })?;
        if argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Ok(None);
        }
        Ok(Some(Principal {
            kind: PrincipalKind::User(r.i64(0)?),
            name: r.text(1)?,
            scopes: parse_scopes(&r.text(2)?)?,
            team: team_of(&r, 3)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 4 + 43, "{a}");
        assert_ne!(a, b);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn admin_implies_every_scope() {
        let p = Principal::system("t");
        assert!(Scope::ALL.iter().all(|s| p.has(*s)));
        assert_eq!(
            scopes_text(&[Scope::Read, Scope::Upload, Scope::Read]),
            "upload,read"
        );
        assert!(Scope::parse("nope").is_err());
    }
}
