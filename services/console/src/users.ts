import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { formatProblems, parseStructuredText, zodProblems } from '@leakwatch/config';
import { LeakwatchError } from '@leakwatch/errors';
import { z } from 'zod';

export const ROLES = ['viewer', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export interface ConsoleUser {
  username: string;
  role: Role;
  passwordHash: string;
}

const HASH_PATTERN = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const usersFileSchema = z.object({
  users: z
    .array(
      z.object({
        username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1-64 letters, digits, . _ @ -'),
        role: z.enum(ROLES),
        passwordHash: z.string().regex(HASH_PATTERN, 'must be made by `leakwatch console hash-password`'),
      }),
    )
    .min(1, 'must list at least one user'),
});

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** `scrypt$N$r$p$salt$hash` (base64), with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time check of a password against a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltText, hashText] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashText, 'base64');
  if (expected.length === 0) return false;
  const key = await scrypt(password, Buffer.from(saltText, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

/** Reads the users file (YAML or JSON); refuses it listing every problem. */
export async function loadUsers(path: string): Promise<Map<string, ConsoleUser>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LeakwatchError('CONFIG_INVALID', `LEAKWATCH_CONSOLE_USERS_FILE: cannot read ${path}`, {
      cause: error,
    });
  }
  const parsed = parseStructuredText(text);
  if ('problems' in parsed) {
    throw new LeakwatchError('CONFIG_INVALID', `users file ${path}: ${formatProblems(parsed.problems)}`);
  }
  const result = usersFileSchema.safeParse(parsed.value);
  if (!result.success) {
    throw new LeakwatchError(
      'CONFIG_INVALID',
      `users file ${path}: ${formatProblems(zodProblems(result.error.issues))}`,
    );
  }
  const users = new Map<string, ConsoleUser>();
  for (const user of result.data.users) users.set(user.username, user);
  return users;
}
