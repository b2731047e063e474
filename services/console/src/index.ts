export {
  startConsole,
  runConsole,
  runHashPassword,
  type ConsoleHandle,
  type StartConsoleOptions,
} from './main.js';
export { loadEnv, type ConsoleConfig, type ConsoleEnv } from './env.js';
export { hashPassword, verifyPassword, loadUsers, ROLES, type Role, type ConsoleUser } from './users.js';
