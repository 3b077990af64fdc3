import { register } from 'node:module';
register('./raw-loader.mjs', import.meta.url);
