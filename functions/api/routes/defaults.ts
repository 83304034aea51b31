import { DEFAULT_AUGMENT, FINETUNE_DEFAULTS } from '../../../src/finetune/request.js';
import { blockPrefixes } from '../../../src/finetune/unfreeze.js';
import { DEFAULT_HEAD_SPEC } from '../../../src/heads/spec.js';
import { BASE_LAYER_NAMES } from '../../../src/zoo/layer-names.js';
import type { ModelId } from '../../../src/zoo/types.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../router.js';

/**
 * GET /train/defaults: what POST /train fills in for a field left out, for a form to start from: the head
 * spec, the fine-tuning settings (with the augmentation `augment: true` means), and the blocks of the
 * service's base that `unfreeze` can name, last first (the usual choice).
 */
export function defaultsRoutes(deps: Pick<ApiDeps, 'namespace'>): Route[] {
  return [
    {
      method: 'GET',
      path: '/train/defaults',
      handler: async () => {
        const model = (await deps.namespace()).model as ModelId;
        const { weights: _weights, ...finetune } = FINETUNE_DEFAULTS;
        const blocks = blockPrefixes(BASE_LAYER_NAMES[model] ?? []).reverse();
        return { statusCode: 200, body: { model, head: DEFAULT_HEAD_SPEC, finetune: { ...finetune, augment: DEFAULT_AUGMENT, unfreeze: blocks } } };
      },
    },
  ];
}
