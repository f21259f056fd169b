// One lint config for every package: typescript-eslint's recommended rules plus the habits of this project,
// and the guard rails that keep its shape: files under 400 lines, and imports that only point down the
// layers (docs/architecture.md: core ← router ← vision ← limoe | mtl ← cli).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** For each package, the @moevl packages it must not import (siblings and everything above it). */
const LAYERS = {
  core: ['router', 'vision', 'limoe', 'mtl', 'zero-shot-cli'],
  router: ['vision', 'limoe', 'mtl', 'zero-shot-cli'],
  vision: ['limoe', 'mtl', 'zero-shot-cli'],
  limoe: ['mtl', 'zero-shot-cli'],
  mtl: ['limoe', 'zero-shot-cli'],
};

const layerRules = Object.entries(LAYERS).map(([pkg, forbidden]) => ({
  files: [`packages/${pkg}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: forbidden.map((p) => `@moevl/${p}`).flatMap((p) => [p, `${p}/*`]),
            message: `@moevl/${pkg} may import only the layers below it (docs/architecture.md).`,
          },
          {
            group: ['../../*/src/*', '../../../packages/*'],
            message: 'import another package by its name, never by a path into its folder.',
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
    },
  },
  // Tests may be long: they enumerate cases.
  { files: ['**/*.test.ts', '**/*.test.helpers.ts'], rules: { 'max-lines': 'off' } },
  ...layerRules,
);
