export declare const POLICIES_DIR: string;
export declare const OUTPUT: string;
export declare const CONFIGMAP_NAME: string;
export declare const NAMESPACE: string;
export interface PolicyFile {
  name: string;
  content: string;
}
export declare function readPolicyFiles(dir?: string): PolicyFile[];
export declare function yamlString(content: string, indent: number): string;
export declare function renderPoliciesConfigMap(files: PolicyFile[]): string;
export declare const FLOOR_DIR: string;
/** The files of components/admission-policy-floor/ ({ name: content }); undefined without dist/. */
export declare function renderFloorFiles(dir?: string): Promise<Record<string, string> | undefined>;
