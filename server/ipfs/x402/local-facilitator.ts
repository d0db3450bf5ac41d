// The embedded facilitator: the x402 packages' own `x402Facilitator` with the
// exact-EVM scheme, verifying and settling against the SQL ledger instead of
// a chain. The signer below answers the contract calls the scheme makes
// (balanceOf, name, version, authorizationState, a simulated and a real
// transferWithAuthorization, Multicall3's tryAggregate), so every check of
// the package runs unchanged: the EIP-712 signature, the recipient, the
// amount, the time window, the nonce and the balance.
import { x402Facilitator } from '@x402/core/facilitator';
import type { FacilitatorClient } from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { eip3009ABI } from '@x402/evm';
import type { FacilitatorEvmSigner } from '@x402/evm';
import { registerExactEvmScheme } from '@x402/evm/exact/facilitator';
import {
  decodeFunctionData,
  encodeAbiParameters,
  encodeEventTopics,
  encodeFunctionResult,
  getAddress,
  keccak256,
  toHex,
  verifyTypedData,
  type Hex,
} from 'viem';
import { joinSignature, Ledger } from './ledger.js';

const MULTICALL3 = getAddress('0xcA11bde05977b3631167028862bE2a173976CA11');
const transferEvent = [
  {
    type: 'event',
    name: 'Transfer',
    inputs: [
      { name: 'from', type: 'address', indexed: true },
      { name: 'to', type: 'address', indexed: true },
      { name: 'value', type: 'uint256', indexed: false },
    ],
  },
] as const;

/** A deterministic address that no key controls, for the facilitator itself. */
export const addressFromLabel = (label: string): Hex => getAddress(`0x${keccak256(toHex(label)).slice(-40)}`);

interface ContractCall {
  address: Hex;
  abi: readonly unknown[];
  functionName: string;
  args?: readonly unknown[];
}

export interface LedgerSignerFaults {
  /** Settlement transactions still to fail (a reverted or dropped transaction). */
  failSettlements: number;
}

export function ledgerSigner(ledger: Ledger, faults: LedgerSignerFaults): FacilitatorEvmSigner {
  const facilitatorAddress = addressFromLabel('forever local x402 facilitator');
  const asset = getAddress(ledger.token.asset);

  const authorizationFrom = (args: readonly unknown[]) => {
    const [from, to, value, validAfter, validBefore, nonce] = args as [Hex, Hex, bigint, bigint, bigint, Hex];
    const signature = args.length === 9 ? joinSignature(args[6] as number, args[7] as Hex, args[8] as Hex) : (args[6] as Hex);
    return { from, to, value, validAfter, validBefore, nonce, signature };
  };

  async function call(c: ContractCall): Promise<unknown> {
    if (getAddress(c.address) === MULTICALL3 && c.functionName === 'tryAggregate') {
      const [, calls] = (c.args ?? []) as [boolean, { target: Hex; callData: Hex }[]];
      const out: { success: boolean; returnData: Hex }[] = [];
      for (const inner of calls) {
        try {
          const decoded = decodeFunctionData({ abi: eip3009ABI, data: inner.callData });
          const result = await call({ address: inner.target, abi: eip3009ABI, functionName: decoded.functionName, args: decoded.args });
          const returnData =
            decoded.functionName === 'transferWithAuthorization'
              ? '0x'
              : encodeFunctionResult({ abi: eip3009ABI, functionName: decoded.functionName as 'balanceOf', result: result as bigint });
          out.push({ success: true, returnData });
        } catch {
          out.push({ success: false, returnData: '0x' });
        }
      }
      return out;
    }
    if (getAddress(c.address) !== asset) throw new Error(`no contract at ${c.address}`);
    const args = c.args ?? [];
    switch (c.functionName) {
      case 'balanceOf':
        return ledger.balanceOf(args[0] as string);
      case 'name':
        return ledger.token.name;
      case 'version':
        return ledger.token.version;
      case 'authorizationState':
        return ledger.authorizationUsed(args[0] as string, args[1] as string);
      case 'transferWithAuthorization':
        // A simulation: the same checks as the transaction, nothing written.
        await ledger.check(authorizationFrom(args));
        return undefined;
      default:
        throw new Error(`execution reverted: ${c.functionName} is not implemented by the local token`);
    }
  }

  return {
    getAddresses: () => [facilitatorAddress],
    readContract: call,
    verifyTypedData: (args) => verifyTypedData(args as Parameters<typeof verifyTypedData>[0]),
    async writeContract(c) {
      if (getAddress(c.address) !== asset || c.functionName !== 'transferWithAuthorization') {
        throw new Error(`execution reverted: ${c.functionName} is not implemented by the local token`);
      }
      if (faults.failSettlements > 0) {
        faults.failSettlements--;
        throw new Error('transaction dropped: the local chain refused it');
      }
      return ledger.transferWithAuthorization(authorizationFrom(c.args));
    },
    async sendTransaction() {
      throw new Error('the local chain runs no contract deployments');
    },
    async waitForTransactionReceipt({ hash }) {
      const t = await ledger.transfer(hash);
      if (!t) return { status: 'reverted', logs: [] };
      const log = {
        address: asset,
        topics: encodeEventTopics({ abi: transferEvent, eventName: 'Transfer', args: { from: t.from, to: t.to } }),
        data: encodeAbiParameters([{ type: 'uint256' }], [t.value]),
        blockHash: hash,
        blockNumber: 1n,
        logIndex: 0,
        transactionHash: hash,
        transactionIndex: 0,
        removed: false,
      };
      return { status: 'success', logs: [log] as never };
    },
    async getCode({ address }) {
      return getAddress(address) === asset || getAddress(address) === MULTICALL3 ? '0x01' : '0x';
    },
  };
}

/** The facilitator as the resource server sees it (same calls as the HTTP client). */
export function localFacilitatorClient(ledger: Ledger, faults: LedgerSignerFaults): FacilitatorClient & { facilitator: x402Facilitator } {
  const facilitator = new x402Facilitator();
  registerExactEvmScheme(facilitator, { signer: ledgerSigner(ledger, faults), networks: ledger.token.network as `${string}:${string}` });
  return {
    facilitator,
    verify: (payload: PaymentPayload, requirements: PaymentRequirements) => facilitator.verify(payload, requirements),
    settle: (payload: PaymentPayload, requirements: PaymentRequirements) => facilitator.settle(payload, requirements),
    getSupported: async () => facilitator.getSupported() as never,
  };
}
