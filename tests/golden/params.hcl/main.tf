# AWS ECS Fargate deployment of params, written by aspirec.
# Deploy: terraform init && terraform apply

provider "aws" {
  region = var.aws_region
}

resource "aws_ecs_cluster" "main" {
  name = "params"
}

# Service discovery: every app with an endpoint is NAME.params.local.
resource "aws_service_discovery_private_dns_namespace" "main" {
  name = "params.local"
  vpc = var.vpc_id
}

resource "aws_security_group" "tasks" {
  name_prefix = "params-tasks-"
  description = "the tasks of the app; they reach each other on any port"
  vpc_id = var.vpc_id
  ingress {
    from_port = 0
    to_port = 0
    protocol = "-1"
    self = true
  }
  egress {
    from_port = 0
    to_port = 0
    protocol = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_iam_role" "execution" {
  name_prefix = "params-exec-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Principal = {
          Service = "ecs-tasks.amazonaws.com"
        }
        Action = "sts:AssumeRole"
      },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_secretsmanager_secret" "gateway_API_KEY" {
  name_prefix = "params/gateway/API_KEY-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "gateway_API_KEY" {
  secret_id = aws_secretsmanager_secret.gateway_API_KEY.id
  secret_string = var.api_key
}

resource "aws_cloudwatch_log_group" "gateway" {
  name = "/ecs/params/gateway"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "gateway" {
  family = "params-gateway"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "gateway", 256)
  memory = lookup(var.task_memory, "gateway", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "gateway"
      image = "docker.io/library/nginx:1.27"
      essential = true
      portMappings = [
        {
          name = "http"
          containerPort = 80
          protocol = "tcp"
        },
      ]
      environment = [
        {
          name = "REGION"
          value = var.region
        },
        {
          name = "LOG_LEVEL"
          value = var.log_level
        },
        {
          name = "services__payments__https__0"
          value = "https://payments.example.com"
        },
        {
          name = "PAYMENTS_URL"
          value = "https://payments.example.com"
        },
        {
          name = "PAYMENTS_URI"
          value = "https://payments.example.com"
        },
      ]
      secrets = [
        {
          name = "API_KEY"
          valueFrom = aws_secretsmanager_secret.gateway_API_KEY.arn
        },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.gateway.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "gateway"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "gateway" {
  name = "gateway"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_lb" "gateway" {
  internal = false
  load_balancer_type = "application"
  security_groups = [aws_security_group.alb.id]
  subnets = var.public_subnet_ids
}

resource "aws_lb_target_group" "gateway_http" {
  port = 80
  protocol = "HTTP"
  target_type = "ip"
  vpc_id = var.vpc_id
}

resource "aws_lb_listener" "gateway_http" {
  load_balancer_arn = aws_lb.gateway.arn
  port = 8080
  protocol = "HTTP"
  default_action {
    type = "forward"
    target_group_arn = aws_lb_target_group.gateway_http.arn
  }
}

resource "aws_ecs_service" "gateway" {
  name = "gateway"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.gateway.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.gateway.arn
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.gateway_http.arn
    container_name = "gateway"
    container_port = 80
  }
  depends_on = [
    aws_lb_listener.gateway_http,
  ]
}

# The tasks read their secrets when they start.
resource "aws_iam_role_policy" "secrets" {
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = ["secretsmanager:GetSecretValue"]
        Resource = [
          aws_secretsmanager_secret.gateway_API_KEY.arn,
        ]
      },
    ]
  })
}

resource "aws_security_group" "alb" {
  name_prefix = "params-alb-"
  description = "the load balancer of the app's external endpoints"
  vpc_id = var.vpc_id
  ingress {
    from_port = 0
    to_port = 65535
    protocol = "tcp"
    cidr_blocks = var.ingress_cidr_blocks
  }
  egress {
    from_port = 0
    to_port = 0
    protocol = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "tasks_from_alb" {
  type = "ingress"
  from_port = 0
  to_port = 65535
  protocol = "tcp"
  security_group_id = aws_security_group.tasks.id
  source_security_group_id = aws_security_group.alb.id
}
