	Bsqrt_recip_alphas_cumprodJH|~Ùí½ğ?’;÷ƒ~ğ?¬ìÄAğ?~^O³ğ?
ÅÇ
½ğ?ÙÏi|ëğ?¼$Ãwèoş?dª-9-@‘ÖõI1L-@