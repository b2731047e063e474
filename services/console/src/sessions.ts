import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '@leakwatch/redis';
import type { Role } from './users.js';

/** A signed-in user: who, which role at sign-in, the session's own CSRF token, when it ends. */
export interface Session {
  username: string;
  role: Role;
  csrf: string;
  expiresAt: number;
}

type SessionRedis = Pick<RedisClient, 'set' | 'get' | 'del' | 'incr'>;

/** Unguessable id, so the Redis key need not be: a leaked key list or dump holds no usable session. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * Sessions and sign-in attempt counters in Redis, so a restart signs nobody out and every
 * console instance sees the same sessions. The cookie carries a random 256-bit id; Redis holds
 * only its SHA-256 (key `<prefix>console:session:<sha256>`) with a TTL of the session's
 * lifetime, so a Redis dump cannot be replayed as cookies. Signing out deletes the key.
 */
export class SessionStore {
  constructor(
    private readonly redis: SessionRedis,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  private key(id: string): string {
    return `${this.keyPrefix}console:session:${digest(id)}`;
  }

  /** Creates a session; returns the id for the cookie. */
  async create(user: { username: string; role: Role }, now = Date.now()): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      username: user.username,
      role: user.role,
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: now + this.ttlMs,
    };
    await this.redis.set(this.key(id), JSON.stringify(session), 'PX', this.ttlMs);
    return id;
  }

  /** The session of a cookie id, or null when unknown, expired or unreadable. */
  async get(id: string, now = Date.now()): Promise<Session | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return null;
    try {
      const session = JSON.parse(raw) as Session;
      return session.expiresAt > now ? session : null;
    } catch {
      return null;
    }
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  /**
   * Counts a sign-in attempt for `subject` (username and address) in a fixed window shared by
   * every instance; returns how many were made in the current window, this one included.
   */
  async countAttempt(subject: string, windowMs: number): Promise<number> {
    const key = `${this.keyPrefix}console:signin:${digest(subject)}`;
    // the window starts with the first attempt; INCR keeps the TTL, so a key never outlives it
    await this.redis.set(key, '0', 'PX', windowMs, 'NX');
    return this.redis.incr(key);
  }

  async clearAttempts(subject: string): Promise<void> {
    await this.redis.del(`${this.keyPrefix}console:signin:${digest(subject)}`);
  }
}
