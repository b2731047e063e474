import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

// Type-aware lint over one program: tsconfig.check.json, the same one the typecheck step uses,
// covering sources, unit and integration tests, test/ and scripts. The project service
// (`parserOptions.projectService`) was measured on this repository and not taken: it builds one
// program per package, each re-reading its dependencies' sources (the @leakwatch/source
// condition), and needs a default project for every test file, which the package build configs
// leave out on purpose. It took 2.5x the CPU time and twice the memory for the same findings.
export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.cache/**', 'coverage/**', 'reports/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.check.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      // in recommendedTypeChecked already; named so that nobody turns them off by accident
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.test.ts', 'services/cli/src/**/*.ts', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // the console's one browser script: plain JavaScript, browser globals
    files: ['services/console/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        EventSource: 'readonly',
        CSS: 'readonly',
        location: 'readonly',
        confirm: 'readonly',
        alert: 'readonly',
        console: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
      },
    },
  },
  {
    // fakes implement async interfaces with answers they already hold
    files: ['**/*.test.ts', '**/*.fakes.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
);
