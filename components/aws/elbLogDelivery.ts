// Who writes an Application Load Balancer's access logs into a bucket, by region. In the regions
// AWS opened before August 2022, ELB's own account in that region writes them, and the bucket
// policy must allow that account; in the regions opened since, the bucket policy allows the service
// principal logdelivery.elasticloadbalancing.amazonaws.com instead (AWS: "Enable access logs for
// your Application Load Balancer", step "Attach a policy to your S3 bucket"). The accounts are the
// ones AWS lists there; terraform-provider-aws keeps the same table for aws_elb_service_account
// (elbAccountIdPerRegionMap), which aws.elb.getServiceAccount reads and which fails for a newer region.
// Pure: the program, the tests and the docs read this one table.

/** ELB's account per region, for the regions available before August 2022. */
export const ELB_LOG_ACCOUNTS: Readonly<Record<string, string>> = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
};

/** The service principal of ALB log delivery in the regions opened since August 2022. */
export const ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com";

/** The service principal of S3 server access log delivery. */
export const S3_LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com";

/** The ARN partition of a region. */
export function partitionOf(region: string): string {
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    return "aws";
}

/** The principal of a bucket policy statement that lets ALB log delivery in `region` write. */
export function elbLogDeliveryPrincipal(region: string): { AWS: string } | { Service: string } {
    const account = ELB_LOG_ACCOUNTS[region];
    return account ? { AWS: `arn:${partitionOf(region)}:iam::${account}:root` } : { Service: ELB_LOG_DELIVERY_SERVICE };
}
