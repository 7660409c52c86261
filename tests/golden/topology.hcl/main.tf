# AWS ECS Fargate deployment of topology, written by aspirec.
# Deploy: terraform init && terraform apply

provider "aws" {
  region = var.aws_region
}

resource "aws_ecs_cluster" "main" {
  name = "topology"
}

# Service discovery: every app with an endpoint is NAME.topology.local.
resource "aws_service_discovery_private_dns_namespace" "main" {
  name = "topology.local"
  vpc = var.vpc_id
}

resource "aws_security_group" "tasks" {
  name_prefix = "topology-tasks-"
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
  name_prefix = "topology-exec-"
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

resource "aws_cloudwatch_log_group" "cache" {
  name = "/ecs/topology/cache"
  retention_in_days = var.log_retention_days
}

resource "aws_efs_file_system" "cache_data" {
  creation_token = "topology-cache-data"
  encrypted = true
}

resource "aws_efs_mount_target" "cache_data" {
  count = length(var.subnet_ids)
  file_system_id = aws_efs_file_system.cache_data.id
  subnet_id = var.subnet_ids[count.index]
  security_groups = [aws_security_group.tasks.id]
}

resource "aws_ecs_task_definition" "cache" {
  family = "topology-cache"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "cache", 256)
  memory = lookup(var.task_memory, "cache", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "cache"
      image = "docker.io/library/redis:7.4"
      essential = true
      portMappings = [
        {
          name = "tcp"
          containerPort = 6379
          protocol = "tcp"
        },
      ]
      mountPoints = [
        {
          sourceVolume = "cache_data"
          containerPath = "/data"
          readOnly = false
        },
      ]
      healthCheck = {
        command = [
          "CMD-SHELL",
          "nc -z 127.0.0.1 6379 || bash -c ': </dev/tcp/127.0.0.1/6379'",
        ]
        interval = 5
        timeout = 3
        retries = 5
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.cache.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "cache"
        }
      }
    },
  ])
  volume {
    name = "cache_data"
    efs_volume_configuration {
      file_system_id = aws_efs_file_system.cache_data.id
      transit_encryption = "ENABLED"
    }
  }
}

resource "aws_service_discovery_service" "cache" {
  name = "cache"
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

resource "aws_ecs_service" "cache" {
  name = "cache"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.cache.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.cache.arn
  }
}

resource "aws_cloudwatch_log_group" "migrate" {
  name = "/ecs/topology/migrate"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "migrate" {
  family = "topology-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "migrate", 256)
  memory = lookup(var.task_memory, "migrate", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "migrate"
      image = "example.com/shop/migrate:1.0"
      essential = true
      command = [
        "/bin/migrate",
        "--apply",
        "--target",
        "tcp://cache.topology.local:6379",
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.migrate.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "migrate"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "migrate" {
  name = "migrate"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.migrate.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  depends_on = [
    aws_ecs_service.cache,
  ]
}

resource "aws_secretsmanager_secret" "api_TOKEN" {
  name_prefix = "topology/api/TOKEN-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "api_TOKEN" {
  secret_id = aws_secretsmanager_secret.api_TOKEN.id
  secret_string = var.api_token
}

resource "aws_cloudwatch_log_group" "api" {
  name = "/ecs/topology/api"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "api" {
  family = "topology-api"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "api", 256)
  memory = lookup(var.task_memory, "api", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "api"
      image = "example.com/shop/api:2.1"
      essential = true
      entryPoint = [
        "/usr/bin/tini",
        "--",
      ]
      workingDirectory = "/srv"
      portMappings = [
        {
          name = "http"
          containerPort = 8000
          protocol = "tcp"
        },
        {
          name = "metrics"
          containerPort = 9100
          protocol = "tcp"
        },
      ]
      environment = [
        {
          name = "LOG_LEVEL"
          value = var.log_level
        },
        {
          name = "PRICE"
          value = "costs $5"
        },
        {
          name = "example.com/flag"
          value = "true"
        },
        {
          name = "ConnectionStrings__cache"
          value = "cache.topology.local:6379"
        },
        {
          name = "services__cache__tcp__0"
          value = "tcp://cache.topology.local:6379"
        },
        {
          name = "CACHE_TCP"
          value = "tcp://cache.topology.local:6379"
        },
        {
          name = "CACHE_HOST"
          value = "cache.topology.local"
        },
        {
          name = "CACHE_PORT"
          value = "6379"
        },
        {
          name = "CACHE_URI"
          value = "tcp://cache.topology.local:6379"
        },
      ]
      secrets = [
        {
          name = "TOKEN"
          valueFrom = aws_secretsmanager_secret.api_TOKEN.arn
        },
      ]
      healthCheck = {
        command = [
          "CMD-SHELL",
          "wget -q -O /dev/null http://127.0.0.1:8000/healthz || curl -fsS -o /dev/null http://127.0.0.1:8000/healthz",
        ]
        interval = 5
        timeout = 2
        retries = 10
        startPeriod = 10
      }
      dockerLabels = {
        "com.example.team" = "shop"
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.api.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "api"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "api" {
  name = "api"
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

resource "aws_ecs_service" "api" {
  name = "api"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.api.arn
  desired_count = 2
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.api.arn
  }
  depends_on = [
    aws_ecs_service.migrate,
    aws_ecs_service.cache,
  ]
}

resource "aws_cloudwatch_log_group" "edge" {
  name = "/ecs/topology/edge"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "edge" {
  family = "topology-edge"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "edge", 256)
  memory = lookup(var.task_memory, "edge", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "edge"
      image = "docker.io/library/nginx:1.27"
      essential = true
      portMappings = [
        {
          name = "https"
          containerPort = 443
          protocol = "tcp"
        },
        {
          name = "stats"
          containerPort = 8125
          protocol = "udp"
        },
      ]
      environment = [
        {
          name = "services__api__http__0"
          value = "http://api.topology.local:8000"
        },
        {
          name = "API_HTTP"
          value = "http://api.topology.local:8000"
        },
        {
          name = "services__api__metrics__0"
          value = "http://api.topology.local:9100"
        },
        {
          name = "API_METRICS"
          value = "http://api.topology.local:9100"
        },
        {
          name = "API_HOST"
          value = "api.topology.local"
        },
        {
          name = "API_PORT"
          value = "8000"
        },
        {
          name = "API_URI"
          value = "http://api.topology.local:8000"
        },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.edge.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "edge"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "edge" {
  name = "edge"
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

resource "aws_lb" "edge" {
  internal = false
  load_balancer_type = "application"
  security_groups = [aws_security_group.alb.id]
  subnets = var.public_subnet_ids
}

resource "aws_lb_target_group" "edge_https" {
  port = 443
  protocol = "HTTPS"
  target_type = "ip"
  vpc_id = var.vpc_id
}

resource "aws_lb_listener" "edge_https" {
  load_balancer_arn = aws_lb.edge.arn
  port = 8443
  protocol = "HTTPS"
  ssl_policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn = var.certificate_arn
  default_action {
    type = "forward"
    target_group_arn = aws_lb_target_group.edge_https.arn
  }
}

resource "aws_ecs_service" "edge" {
  name = "edge"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.edge.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.edge.arn
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.edge_https.arn
    container_name = "edge"
    container_port = 443
  }
  depends_on = [
    aws_lb_listener.edge_https,
    aws_ecs_service.api,
  ]
}

resource "aws_cloudwatch_log_group" "debug-shell" {
  name = "/ecs/topology/debug-shell"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "debug-shell" {
  family = "topology-debug-shell"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "debug-shell", 256)
  memory = lookup(var.task_memory, "debug-shell", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "debug-shell"
      image = "docker.io/library/busybox:1.36"
      essential = true
      command = [
        "sleep",
        "infinity",
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.debug-shell.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "debug-shell"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "debug-shell" {
  name = "debug-shell"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.debug-shell.arn
  desired_count = 0
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
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
          aws_secretsmanager_secret.api_TOKEN.arn,
        ]
      },
    ]
  })
}

resource "aws_security_group" "alb" {
  name_prefix = "topology-alb-"
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
