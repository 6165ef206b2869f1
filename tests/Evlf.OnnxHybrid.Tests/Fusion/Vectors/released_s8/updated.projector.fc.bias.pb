Bupdated.projector.fc.biasJ`œ4B
¡™}?˜ƒw_?jQÊó×¬?›I÷#¸˜¿5%ƒ^ã¢? n´L<…?€ÿÄ§?fG'ÜtÞ©¿¥bPfa€¿á¡é}ý™¿ðÂd0–O¿¸"±—¥o¤?