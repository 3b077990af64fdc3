// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { basename } from 'node:path';

/** File names are kebab-case (a.b-c.ts, x.test.ts, x.ref.ts allowed). */
const kebabCase = {
  meta: {
    type: 'suggestion',
    schema: [],
    messages: { name: 'File name "{{name}}" is not kebab-case.' },
  },
  create(context) {
    return {
      Program(node) {
        const name = basename(context.filename);
        if (!/^[a-z0-9]+(?:[-.][a-z0-9]+)*$/.test(name)) {
          context.report({ node, messageId: 'name', data: { name } });
        }
      },
    };
  },
};

/** Layer rules from DESIGN.md: lower layers never import higher ones. */
const layers = {
  ui: ['state', 'shared'],
  state: ['worker/client', 'worker/protocol', 'shared'],
  worker: ['worker', 'media', 'engine', 'kernels', 'gpu', 'shared'],
  media: ['media', 'shared'],
  engine: ['engine', 'kernels', 'gpu', 'shared'],
  kernels: ['kernels', 'gpu', 'shared'],
  gpu: ['gpu', 'shared'],
  shared: ['shared'],
};
const allLayers = ['ui', 'state', 'worker', 'media', 'engine', 'kernels', 'gpu', 'shared'];

function layerConfig(layer, allowed) {
  const denied = allLayers.filter((l) => !allowed.some((a) => a === l || a.startsWith(`${l}/`)));
  const patterns = denied.map((l) => ({
    group: [`**/${l}/**`, `**/${l}`],
    message: `src/${layer}/ may not import src/${l}/ (see DESIGN.md, layers).`,
  }));
  // state may use the worker client and protocol, nothing else of worker/
  if (layer === 'state') {
    patterns.push({
      group: ['**/worker/host*'],
      message: 'src/state/ talks to the worker only through worker/client.',
    });
  }
  const onnx =
    layer === 'engine'
      ? []
      : [
          {
            group: ['onnxruntime-web', 'onnxruntime-web/*'],
            message: 'Only src/engine/ imports onnxruntime-web.',
          },
        ];
  return {
    files: [`src/${layer}/**/*.{ts,tsx}`],
    ignores: ['src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, ...onnx] }] },
  };
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      '.cache/**',
      'models/packs/**',
      'models/**/*.py',
      'public/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.browser, ...globals.node },
    },
    plugins: { local: { rules: { 'kebab-case-files': kebabCase } } },
    rules: {
      'local/kebab-case-files': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='mapAsync']",
          message: 'Read GPU memory only through gpu/readback.ts so readbacks are counted.',
        },
      ],
    },
  },
  {
    files: ['src/gpu/readback.ts', 'src/engine/naive-*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['src/ui/**/*.tsx', 'src/ui/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  ...Object.entries(layers).map(([layer, allowed]) => layerConfig(layer, allowed)),
);
