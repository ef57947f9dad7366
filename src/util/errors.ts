/**
 * Errors whose cause the user must fix (bad flags, unreadable manifests, invalid policies, no
 * cluster configuration). The CLI prints their message alone and exits with their code; any other
 * error is a failure of the program (exit 1).
 */
export class UserError extends Error {
  readonly exitCode: number = 2;
}

/** Bad command-line usage: the message is followed by a pointer to the command's help. */
export class UsageError extends UserError {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Input files or objects that cannot be read or are not what the command expects. */
export class InputError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** No way to reach a cluster: no --kubeconfig, $KUBECONFIG, ~/.kube/config or in-cluster account. */
export class ClusterConfigError extends UserError {
  constructor(message = 'no cluster configuration: pass --kubeconfig, set $KUBECONFIG or run in a cluster') {
    super(message);
    this.name = 'ClusterConfigError';
  }
}
