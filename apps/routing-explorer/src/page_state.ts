/** What the page did last, for people reading the console and for the test that drives the page. */
export interface PageState {
  state: 'loading' | 'ready' | 'running' | 'done' | 'error';
  /** Finished classifications. */
  runs: number;
  error?: string;
  backend?: string;
  result?: {
    image: string;
    classNames: string[];
    labels: Array<{ label: string; probability: number; score: number }>;
    /** Per MoE layer, the expert of each patch (row-major over the patch grid). */
    patches: Array<{ block: number; experts: number[] }>;
    prompts: Array<{ text: string; pieces: string[]; experts: Array<{ block: number; experts: number[] }> }>;
    milliseconds: number;
  };
}
