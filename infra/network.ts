import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { guardFindings } from './guard';
import { LOG_RETENTION } from './logRetention';
import { acknowledge } from './nag';

export interface NetworkProps {
  /** NAT gateways: 1 (default, cheapest) or 2 (one per Availability Zone). */
  readonly natGateways: number;
}

/**
 * The VPC: two Availability Zones, each with a public subnet (NAT gateway only), a private subnet
 * with egress through NAT (the functions: exchanges, feeds and AWS APIs), and an isolated subnet
 * (database and RDS Proxy: no route out at all). Rejected traffic is logged (flow log).
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** The functions' security group: HTTPS out anywhere, PostgreSQL to the proxy only. */
  readonly functionSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.20.0.0/16'),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        // The public subnets hold only the NAT gateways, which get their Elastic IPs explicitly:
        // nothing launched there gets a public address by itself (CT.EC2.PR.11).
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });

    // Only rejected packets: enough to debug a security-group mistake at a fraction of the cost
    // of logging every flow of every-minute functions.
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(flowLogs, guardFindings('cloudwatch_log_group_encrypted_check'));
    this.vpc.addFlowLog('RejectedTraffic', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Precog Lambda functions: HTTPS to exchanges, feeds and AWS APIs; PostgreSQL to the RDS Proxy',
      allowAllOutbound: false,
    });
    this.functionSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: Kalshi, Polymarket, ESPN and AWS APIs (through NAT)');
  }
}
