/** The external corpus beside the checkout (optional; `npm run test:corpus` skips without it). */
export const CORPUS_DIR = new URL('../../../shared/corpus/', import.meta.url).pathname;
export const PUBLIC_CORPUS = `${CORPUS_DIR}public/`;
export const REVIEWS_CORPUS = `${CORPUS_DIR}reviews/`;
